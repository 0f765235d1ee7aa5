import ClusterWire

extension Membership {
    /// What this node currently believes about another node.
    public struct Member: Hashable, Sendable {
        /// The latest update accepted about the node.
        public var update: Wire.MemberUpdate
        /// When this node accepted that update.
        public var since: Instant

        /// Creates a member record.
        public init(update: Wire.MemberUpdate, since: Instant) {
            self.update = update
            self.since = since
        }

        /// The node's identifier.
        public var id: Wire.NodeID { update.node }
        /// Alive, suspect or dead.
        public var status: Wire.MemberStatus { update.status }
        /// The node's incarnation.
        public var incarnation: UInt64 { update.incarnation }
        /// Where the node listens.
        public var address: Wire.Address { update.address }
        /// The node's capacity and load.
        public var load: Wire.NodeLoad { update.load }
    }
}
