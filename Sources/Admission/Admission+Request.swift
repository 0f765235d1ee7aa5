#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Admission {
    /// What a node without the key sends the head, one JSON line per connection, every few
    /// seconds until it is admitted. Nothing in it is proof of anything: it says who the node
    /// claims to be, for the administrator to compare with the node's console.
    public struct Request: Codable, Sendable, Equatable {
        /// The node id it will use (from its MAC), 16 hex digits.
        public var node: String
        public var hostname: String
        /// Its network cards' MACs, lowercase with colons.
        public var macs: [String]
        /// The DMI system serial, if the machine has one.
        public var serial: String?
        /// Its Curve25519 public key (32 bytes), to which the key is sealed.
        public var publicKey: Data

        public init(node: String, hostname: String, macs: [String], serial: String?, publicKey: Data) {
            self.node = node
            self.hostname = hostname
            self.macs = macs
            self.serial = serial
            self.publicKey = publicKey
        }

        /// Why a request is malformed, for the counter and the log.
        public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
            public var description: String
        }

        /// Decodes and checks one request line from the network.
        public static func decode(_ bytes: some Collection<UInt8>) throws(Invalid) -> Request {
            guard bytes.count <= Admission.maxMessage else { throw Invalid(description: "longer than \(Admission.maxMessage) bytes") }
            let request: Request
            do {
                request = try JSONDecoder().decode(Request.self, from: Data(bytes))
            } catch {
                throw Invalid(description: "not an admission request")
            }
            try request.validate()
            return request
        }

        /// Every field by rule: ids and MACs by pattern, names by character set, counts by bound.
        public func validate() throws(Invalid) {
            guard (1...16).contains(node.utf8.count), node.utf8.allSatisfy(Self.isLowerHex) else {
                throw Invalid(description: "node id is not 1 to 16 lowercase hex digits")
            }
            guard (1...63).contains(hostname.utf8.count), hostname.first != "-", hostname.last != "-",
                  hostname.utf8.allSatisfy({ Self.isLowerHex($0) || Self.isLetterOrDigit($0) || $0 == UInt8(ascii: "-") }) else {
                throw Invalid(description: "host name is not 1 to 63 letters, digits or '-'")
            }
            guard macs.count <= 16, macs.allSatisfy(Self.isMAC) else {
                throw Invalid(description: "MACs must be at most 16, each like 52:54:00:12:34:56")
            }
            if let serial {
                guard (1...64).contains(serial.utf8.count), serial.utf8.allSatisfy({ (0x21...0x7E).contains($0) || $0 == 0x20 }) else {
                    throw Invalid(description: "serial is not 1 to 64 printable ASCII characters")
                }
            }
            guard publicKey.count == 32 else { throw Invalid(description: "public key is not 32 bytes") }
        }

        /// A DMI serial as a request may carry it: printable ASCII, at most 64 characters, nil
        /// when nothing is left (QEMU's machines have none).
        public static func cleanSerial(_ serial: String?) -> String? {
            guard let serial else { return nil }
            let kept = String(String.UnicodeScalarView(serial.unicodeScalars.filter { (0x21...0x7E).contains($0.value) }.prefix(64)))
            return kept.isEmpty ? nil : kept
        }

        /// The fingerprint the head lists and the node prints: who to admit.
        public var fingerprint: String { Admission.fingerprint(of: publicKey) }

        static func isLowerHex(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
        }

        static func isLetterOrDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }

        static func isMAC(_ text: String) -> Bool {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            return parts.count == 6 && parts.allSatisfy { $0.utf8.count == 2 && $0.utf8.allSatisfy(isLowerHex) }
        }
    }
}
