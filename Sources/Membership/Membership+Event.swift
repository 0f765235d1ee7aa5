import ClusterWire

extension Membership {
    /// Something that happened to the node, fed to ``Membership/State/handle(_:now:)``.
    public enum Event: Hashable, Sendable {
        /// Time passed. The agent ticks at least every ``Membership/Configuration/tickInterval``;
        /// extra ticks are harmless.
        case tick
        /// An authenticated datagram arrived from `sender`, whose source address was `address`.
        case received(Wire.Message, from: Wire.NodeID, address: Wire.Address)
        /// The node's own load or capacity changed; published under a new incarnation.
        case localLoadChanged(Wire.NodeLoad)
        /// Start (or restart) joining through these addresses (static seeds or the discovery
        /// broadcast address).
        case join(seeds: [Wire.Address])
    }
}
