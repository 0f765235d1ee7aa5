import ClusterWire

extension Membership {
    /// A ping this node sent on behalf of another member's ping-req, awaiting the target's ack.
    struct Relay: Hashable, Sendable {
        /// Who asked.
        var origin: Wire.NodeID
        /// Where the asker listens: its authenticated member address, never the ping-req's
        /// UDP source.
        var originAddress: Wire.Address
        /// The member probed on the asker's behalf; only its ack is relayed.
        var target: Wire.NodeID
        /// The asker's probe number, echoed in the relayed ack.
        var originProbe: UInt32
        /// When to forget the relay.
        var expires: Instant
    }
}
