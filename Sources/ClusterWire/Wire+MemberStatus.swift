extension Wire {
    /// What the cluster believes about a member, in SWIM's order of precedence.
    public enum MemberStatus: UInt8, Sendable, Comparable {
        /// Answering probes.
        case alive = 0
        /// Missed a probe (directly and indirectly); declared dead unless it refutes in time.
        case suspect = 1
        /// Confirmed failed; only a higher incarnation brings it back.
        case dead = 2

        public static func < (lhs: MemberStatus, rhs: MemberStatus) -> Bool {
            lhs.rawValue < rhs.rawValue
        }
    }
}
