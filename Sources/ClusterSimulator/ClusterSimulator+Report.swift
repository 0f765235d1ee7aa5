extension ClusterSimulator {
    /// A whole run: the samples, and job completion with and without balancing.
    public struct Report: Hashable, Sendable, Codable {
        /// The run's parameters, for the record.
        public var nodes: Int
        public var seconds: Double
        public var seed: UInt64
        public var balancing: Bool
        /// Whether jobs were placed at start (``Configuration/placement``), and how many started
        /// elsewhere than where they arrived.
        public var placement: Bool
        public var placements: Int
        public var stabilityMargin: Double
        public var minimumRunFactor: Double
        public var lowMemoryFraction: Double
        /// Samples every ``Configuration/sampleInterval``.
        public var samples: [Sample]
        /// Jobs started, and finished by the end.
        public var jobs: Int
        public var completed: Int
        /// Migrations, their share for memory, and the jobs that moved more than twice.
        public var migrations: Int
        public var memoryMigrations: Int
        public var bouncingJobs: Int
        /// Most moves of one job.
        public var maximumMoves: Int
        /// Datagrams the membership sent (all nodes, whole run, warm-up included).
        public var datagrams: Int
        /// Time from the first job to the last completion (nil if some job did not finish), and
        /// the mean time from a job's start to its completion over finished jobs.
        public var makespan: Double?
        public var meanCompletion: Double
        /// The same workload on the same nodes with no balancing (computed without gossip).
        public var makespanWithoutBalancing: Double?
        public var meanCompletionWithoutBalancing: Double
        /// Information age over all samples: median and 99th percentile.
        public var informationAgeMedian: Double
        public var informationAgeP99: Double
        public var stalenessMedian: Double
        public var stalenessP99: Double
    }
}
