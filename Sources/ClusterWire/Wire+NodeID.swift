extension Wire {
    /// A node's identity in the cluster: 64 bits, random per boot or derived from the machine.
    ///
    /// Per-boot random ids make every reboot a new member (the old id is declared dead and
    /// forgotten); stable ids keep a node's identity across reboots, and a restarted agent
    /// starts a new random ``Wire/Envelope/session``, which peers' replay windows accept at once.
    public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
        /// The identifier's bits, as sent on the wire.
        public var rawValue: UInt64

        /// Wraps raw identifier bits.
        public init(_ rawValue: UInt64) {
            self.rawValue = rawValue
        }

        /// The recipient of a datagram meant for whoever receives it: allowed only on `join`
        /// (seeds and the discovery group have no known id). Never a node's own id.
        public static let anyRecipient = NodeID(0)

        public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
            lhs.rawValue < rhs.rawValue
        }

        /// Sixteen lowercase hex digits, zero-padded.
        public var description: String {
            let hex = String(rawValue, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
    }
}
