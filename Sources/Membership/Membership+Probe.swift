import ClusterWire

extension Membership {
    /// The probe this node has outstanding in the current protocol period.
    struct Probe: Hashable, Sendable {
        /// The member probed.
        var target: Wire.NodeID
        /// The probe number its ack must echo.
        var number: UInt32
        /// When the direct ping went out.
        var sentAt: Instant
        /// Whether ping-reqs went out after the direct timeout.
        var indirectSent = false
        /// Whether an ack (direct or relayed) came back.
        var acked = false
    }
}
