import ClusterWire

extension Membership {
    /// Something the agent must do as a result of an event.
    public enum Action: Hashable, Sendable {
        /// Seal `message` for `recipient` and send it to `address`. The recipient is
        /// ``Wire/NodeID/anyRecipient`` only for joins to seeds (whose id is not known).
        case send(Wire.Message, to: Wire.Address, recipient: Wire.NodeID)
        /// This node's view of a member changed (new, status, address, incarnation or load):
        /// tell the balancer and the logs.
        case memberChanged(Member)
        /// This node refuted a suspicion or death claim about itself. Peers that suspect it may
        /// be refusing its datagrams (a key holder can push its replay window far ahead), so the
        /// agent starts a new wire session (``Wire/Sealer/startSession(_:)``), rate-limited.
        case refuted
    }
}
