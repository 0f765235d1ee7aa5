import Crypto

extension Wire {
    /// The per-purpose subkeys derived from the 256-bit cluster key.
    ///
    /// The cluster key itself is never used directly: HKDF<SHA256> with a fixed salt and a purpose
    /// label gives one independent key per use, so the fingerprint shown in logs and on the console
    /// reveals nothing about the key that seals datagrams, and a future purpose (say, job
    /// transfer) gets its own key without a protocol change.
    public struct Keys: Sendable {
        /// Seals and opens datagrams (ChaCha20-Poly1305). Stored as bytes because `SymmetricKey`
        /// is not `Sendable`.
        let datagramBytes: [UInt8]
        /// Authenticates stream handshakes (HMAC-SHA256), see ``Wire/Stream``.
        let streamAuthBytes: [UInt8]
        /// Input to the per-connection stream keys (HKDF with both sides' nonces).
        let streamSessionBytes: [UInt8]
        /// Only ever hashed, for ``fingerprint``.
        private let identityBytes: [UInt8]

        /// The key that seals and opens datagrams.
        public var datagram: SymmetricKey { SymmetricKey(data: datagramBytes) }

        /// The fixed HKDF salt: a protocol label, not a secret.
        static let salt = Array("livebuild clusterd v1".utf8)

        /// Why a cluster key was refused.
        public enum KeyError: Error, Hashable, Sendable {
            /// The key is not 32 bytes.
            case wrongLength(Int)
        }

        /// Derives the subkeys from a 32-byte cluster key.
        public init(clusterKey: [UInt8]) throws(KeyError) {
            guard clusterKey.count == 32 else { throw .wrongLength(clusterKey.count) }
            let master = SymmetricKey(data: clusterKey)
            datagramBytes = Self.derive(master, purpose: "datagram aead")
            identityBytes = Self.derive(master, purpose: "fingerprint")
            streamAuthBytes = Self.derive(master, purpose: "stream handshake hmac")
            streamSessionBytes = Self.derive(master, purpose: "stream session")
        }

        /// First 16 hex digits of SHA-256 of the fingerprint subkey: enough for an operator to
        /// tell whether two nodes hold the same cluster key, and useless for recovering it.
        public var fingerprint: String {
            let digest = SHA256.hash(data: identityBytes)
            var hex = ""
            for byte in digest.prefix(8) {
                let digits = String(byte, radix: 16)
                hex += byte < 16 ? "0" + digits : digits
            }
            return hex
        }

        private static func derive(_ master: SymmetricKey, purpose: String) -> [UInt8] {
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: master, salt: salt, info: Array(purpose.utf8), outputByteCount: 32
            ).withUnsafeBytes { Array($0) }
        }
    }
}
