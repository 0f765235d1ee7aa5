extension Wire {
    /// One gossiped fact about a member: who, at which incarnation, in which status, where, and
    /// with what load.
    public struct MemberUpdate: Hashable, Sendable {
        /// The member the update is about.
        public var node: NodeID
        /// The member's incarnation; only the member itself increments it (to refute suspicion or
        /// to publish a new load).
        public var incarnation: UInt64
        /// Alive, suspect or dead.
        public var status: MemberStatus
        /// Where the member listens.
        public var address: Address
        /// The member's capacity and load as of `incarnation`.
        public var load: NodeLoad

        /// Creates an update.
        public init(node: NodeID, incarnation: UInt64, status: MemberStatus, address: Address, load: NodeLoad) {
            self.node = node
            self.incarnation = incarnation
            self.status = status
            self.address = address
            self.load = load
        }

        /// Whether this update supersedes `other` (about the same node) under SWIM's rules: a
        /// higher incarnation wins; at equal incarnation suspect beats alive and dead beats both.
        public func overrides(_ other: MemberUpdate) -> Bool {
            (incarnation, status.rawValue) > (other.incarnation, other.status.rawValue)
        }
    }
}
