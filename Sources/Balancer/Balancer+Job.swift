extension Balancer {
    /// One migratable job running on the local node.
    public struct Job: Hashable, Sendable {
        /// The job's id, unique on the node.
        public var id: String
        /// The fraction of recent time the job was runnable (running or waiting for a CPU), 0...1:
        /// what it adds to a node's load. A CPU-bound job is 1 whatever share of a CPU it gets now;
        /// an interactive one is close to 0 and gains nothing from moving.
        public var demand: Double
        /// Resident memory in KiB: what a migration must copy.
        public var memoryKiB: UInt64
        /// How long the job has run so far (anywhere). Past run time predicts remaining run time
        /// for the heavy-tailed lifetimes of real processes, so it is what pays for a move.
        public var runTime: Duration
        /// Pinned by the user: never moved.
        public var stay: Bool
        /// How long ago the job last arrived by migration; nil if it never moved.
        public var lastMigration: Duration?
        /// Bytes of its memory the job writes per second (soft-dirty bits, or a move's pre-copy
        /// rounds); 0 if unknown. A move copies what the job dirties while it copies, so this,
        /// against the link's rate, says how long the move takes and how long it freezes the job.
        public var dirtyRate: Double

        /// Creates a job record.
        public init(
            id: String, demand: Double = 1, memoryKiB: UInt64, runTime: Duration, stay: Bool = false,
            lastMigration: Duration? = nil, dirtyRate: Double = 0
        ) {
            self.dirtyRate = dirtyRate
            self.id = id
            self.demand = demand
            self.memoryKiB = memoryKiB
            self.runTime = runTime
            self.stay = stay
            self.lastMigration = lastMigration
        }
    }
}
