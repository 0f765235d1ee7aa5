import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Admission {
    /// The cluster key sealed to one node's public key with HPKE (RFC 9180, base mode,
    /// X25519 + HKDF-SHA256 + ChaCha20-Poly1305, swift-crypto's implementation): only the holder
    /// of the private key, which never leaves the node's memory, can open it. The info binds it
    /// to the cluster's name and the node's id.
    public struct Sealed: Codable, Sendable, Equatable {
        public var encapsulatedKey: Data
        public var ciphertext: Data

        public init(encapsulatedKey: Data, ciphertext: Data) {
            self.encapsulatedKey = encapsulatedKey
            self.ciphertext = ciphertext
        }
    }

    static let ciphersuite = HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: .chaChaPoly)

    static func info(cluster: String, node: String) -> Data {
        Data("livebuild admission v1\u{0}\(cluster)\u{0}\(node)".utf8)
    }

    /// Seals `clusterKey` for the node that sent `request`.
    public static func seal(_ clusterKey: [UInt8], for request: Request, cluster: String) throws -> Sealed {
        let recipient = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: request.publicKey)
        var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: ciphersuite, info: info(cluster: cluster, node: request.node))
        let ciphertext = try sender.seal(clusterKey)
        return Sealed(encapsulatedKey: sender.encapsulatedKey, ciphertext: ciphertext)
    }

    /// Opens what the head sealed for this node; nil if it does not open or is not a 32-byte key.
    public static func open(_ sealed: Sealed, with privateKey: Curve25519.KeyAgreement.PrivateKey, cluster: String, node: String) -> [UInt8]? {
        guard sealed.encapsulatedKey.count <= 256, sealed.ciphertext.count <= 256,
              var recipient = try? HPKE.Recipient(
                privateKey: privateKey, ciphersuite: ciphersuite, info: info(cluster: cluster, node: node),
                encapsulatedKey: sealed.encapsulatedKey),
              let key = try? recipient.open(sealed.ciphertext), key.count == 32 else { return nil }
        return Array(key)
    }

    /// SHA-256 of a public key, the first 16 bytes in groups of four hex digits
    /// (`3f2a-91c0-...`): what an administrator compares between a node's console and
    /// `cluster pending`.
    public static func fingerprint(of publicKey: Data) -> String {
        let digest = Array(SHA256.hash(data: publicKey)).prefix(16)
        var groups: [String] = []
        var index = digest.startIndex
        while index < digest.endIndex {
            let pair = digest[index..<min(index + 2, digest.endIndex)]
            groups.append(pair.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
            index += 2
        }
        return groups.joined(separator: "-")
    }
}
