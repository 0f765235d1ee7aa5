import ClusterWire

extension Membership {
    /// Something the agent must do as a result of an event.
    public enum Action: Hashable, Sendable {
        /// Seal `message` and send it to `address`.
        case send(Wire.Message, to: Wire.Address)
        /// This node's view of a member changed (new, status, address, incarnation or load):
        /// tell the balancer and the logs.
        case memberChanged(Member)
    }
}
