import ClusterWire

extension Membership {
    /// Something that happened to the node, fed to ``Membership/State/handle(_:now:)``.
    public enum Event: Hashable, Sendable {
        /// Time passed. The agent ticks at least every ``Membership/Configuration/tickInterval``;
        /// extra ticks are harmless.
        case tick
        /// An authenticated datagram arrived from `sender`, whose UDP source address was
        /// `address`. The source is not authenticated: replies go to the sender's member address
        /// (or, for a join, the address in the join), never here, so a replayed or spoofed
        /// datagram cannot make this node send to a third party.
        case received(Wire.Message, from: Wire.NodeID, address: Wire.Address)
        /// The node's own load or capacity changed; published under a new incarnation.
        case localLoadChanged(Wire.NodeLoad)
        /// Start (or restart) joining through these addresses (static seeds or the discovery
        /// broadcast address).
        case join(seeds: [Wire.Address])
    }
}
