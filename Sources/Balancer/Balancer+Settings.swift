extension Balancer {
    /// The policy's parameters: the node's send switch and the thresholds. Docs/balancing.md gives
    /// the simulator figures behind each default.
    public struct Settings: Hashable, Sendable {
        /// How peers with equal marginal cost are ordered.
        public enum TieBreak: String, Hashable, Sendable, CaseIterable {
            /// The lowest node id wins: simple, but every loaded node picks the same idle peer.
            case lowestID
            /// The lowest hash of (sender id, peer id) wins: still deterministic, but different
            /// senders prefer different idle peers, so a burst does not land on one node.
            case spread
        }

        /// This node sends jobs away (its send switch). Off: ``Balancer/decide(local:jobs:peers:migrationInProgress:settings:)``
        /// always answers nil.
        public var sendsJobs = true
        /// A job moves for load only if its marginal cost here exceeds its marginal cost on the
        /// target by this factor. 1.3: with ``costBase`` 2 a move needs a normalised load difference
        /// above 1 + log₂ 1.3 ≈ 1.38 CPUs' worth, so two nodes one job apart never trade it back and
        /// forth on smoothing noise, while 2-vs-0 is always fixed.
        public var stabilityMargin = 1.3
        /// A job moves only once it has run (and, after a move, stayed) at least this many times
        /// its estimated migration time: past run time predicts remaining run time, so the move is
        /// expected to pay for itself. 1: a job that has run as long as its move takes.
        public var minimumRunFactor = 1.0
        /// A job that arrived by migration stays at least this long, whatever its size: the time
        /// gossip needs to carry the target's new load to the other nodes, so a job is not moved
        /// again on information that predates its arrival.
        public var minimumResidency: Duration = .seconds(2)
        /// A node whose free memory falls below this fraction of its total evicts a job even when
        /// its CPU is balanced; a target must stay above it after receiving the job.
        public var lowMemoryFraction = 0.1
        /// Bytes per second a migration copies when the agent has not measured its own rate yet.
        /// 100 MB/s: gigabit Ethernet less protocol overhead.
        public var transferRate = 100_000_000.0
        /// How long the destination's restore takes (the restore request to `restored`) when the
        /// agent has not measured it yet. The destination restores a pre-copied job lazily from
        /// its own images (Docs/migration.md), so this is the job's other state, the agent's
        /// checks and the final round's arrival, not its memory: 0.3–0.6 s under TCG for 16 MiB
        /// and 1 GiB alike. (Modelled until session 19 as memory over a rate, which made a job of
        /// a few GiB look frozen for seconds and kept the balancer from moving it.)
        public var restoreSeconds = 0.5
        /// How pre-copy ends (the source agent's own rules).
        public var precopy = PrecopyRules()
        /// The longest a load move may keep a job frozen (``Balancer/predictMove(memoryBytes:dirtyRate:settings:)``):
        /// a job that writes its memory faster than the link drains it would be frozen for its
        /// whole memory's transfer, and stays. A node short of memory moves it anyway.
        public var maximumAutomaticFreeze: Duration = .seconds(5)
        /// The base a of each resource's cost a^u. Only ratios of costs enter the decision, so the
        /// base sets how large a utilisation difference the stability margin demands.
        public var costBase = 2.0
        /// CPU speed of one reference core: a node's CPU capacity is cpus × MHz / this.
        public var referenceMHz = 2000.0
        /// Peers whose information is older than this are ignored; nil: none is. Off by default:
        /// the agent republishes its load only when it changes, so an old figure usually means a
        /// node whose load has not moved (an idle node, the best target), and dead nodes leave the
        /// membership view anyway. For an agent that republishes periodically.
        public var maximumInformationAge: Duration? = nil
        /// How peers with equal marginal cost are ordered.
        public var tieBreak = TieBreak.spread

        /// The defaults above.
        public init() {}
    }
}
