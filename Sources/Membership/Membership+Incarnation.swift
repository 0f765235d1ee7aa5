import ClusterWire

extension Membership {
    /// The bounds on incarnation numbers, which come from peers and so must never trap or be
    /// allowed to run a member to the end of the number space.
    ///
    /// A real node raises its incarnation once per refutation and once per published load
    /// change (about once a second at most): 2²⁴ is half a year of that, 2⁵⁶ is two billion
    /// years. Updates outside the bounds are dropped and counted
    /// (``Membership/Counters/incarnationOutOfBounds``):
    /// - any update at or above ``ceiling`` (one forged "alive at 2⁶⁴−1" used to crash the
    ///   member it named with an overflow trap in the refutation `incarnation + 1`, and again
    ///   every time it rejoined);
    /// - an update about an already-known member more than ``maxAdvance`` above what this node
    ///   knows, so a forged update cannot pin a member at an incarnation that its real updates
    ///   never beat.
    ///
    /// Claims about this node itself are bounded by the ceiling only during ``selfCatchUp`` after
    /// its first datagram: a node restarted at incarnation 0 must be able to refute any
    /// incarnation the cluster remembers, however high. After that they are bounded like any
    /// member's.
    public enum Incarnation {
        /// Incarnations from here up are refused: no real node gets there.
        public static let ceiling: UInt64 = 1 << 56
        /// The most an update may raise a known member's incarnation at once.
        public static let maxAdvance: UInt64 = 1 << 24
        /// How long after its first datagram a node accepts any claim about itself below the
        /// ceiling (to learn the incarnation it must exceed after a restart).
        public static let selfCatchUp: Duration = .seconds(60)

        /// Whether `update` is within bounds, given the incarnation this node knows for its
        /// member (nil: unknown, or the update is about this node itself, which may jump to any
        /// incarnation below the ceiling).
        ///
        /// A suspect or dead claim must stay below `ceiling - 1`, so the member it names can
        /// always refute it with an alive update one higher that everyone still accepts.
        public static func acceptable(_ update: Wire.MemberUpdate, known: UInt64?) -> Bool {
            let limit = update.status == .alive ? ceiling : ceiling - 1
            guard update.incarnation < limit else { return false }
            guard let known else { return true }
            return update.incarnation <= known || update.incarnation - known <= maxAdvance
        }

        /// The incarnation after `incarnation`, saturating below the ceiling: a node at
        /// `ceiling - 1` stays there (and can still refute every claim below it).
        public static func next(after incarnation: UInt64) -> UInt64 {
            incarnation >= ceiling - 1 ? ceiling - 1 : incarnation + 1
        }
    }
}
