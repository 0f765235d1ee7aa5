import Membership

extension ClusterSimulator {
    /// One simulated job.
    struct Job {
        /// Index in the run's job list; also its id.
        var index: Int
        /// Work left in CPU-seconds on a reference core.
        var remaining: Double
        /// Resident memory.
        var memoryKiB: UInt64
        /// When it started.
        var arrival: Membership.Instant
        /// The node it runs on (its target while migrating).
        var node: Int
        /// When it last arrived by migration.
        var lastArrival: Membership.Instant?
        /// Migrations so far.
        var moves = 0
        /// When its work was done.
        var completed: Membership.Instant?

        /// The id the balancer sees.
        var id: String { "j\(index)" }
    }

    /// A migration under way: the job is frozen, the source has its one outgoing migration.
    struct Migration {
        var job: Int
        var source: Int
        var target: Int
        var ends: Membership.Instant
    }
}
