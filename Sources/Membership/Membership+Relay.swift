import ClusterWire

extension Membership {
    /// A ping this node sent on behalf of another member's ping-req, awaiting the target's ack.
    struct Relay: Hashable, Sendable {
        /// Who asked.
        var origin: Wire.Address
        /// The asker's probe number, echoed in the relayed ack.
        var originProbe: UInt32
        /// When to forget the relay.
        var expires: Instant
    }
}
