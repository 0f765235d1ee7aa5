extension ClusterSimulator {
    /// The cluster at one instant of a run (times in seconds after the warm-up).
    public struct Sample: Hashable, Sendable, Codable {
        /// Seconds since the warm-up ended (the first jobs).
        public var time: Double
        /// Normalised load (runnable jobs per reference core) of the busiest minus the idlest node.
        public var loadSpread: Double
        /// Standard deviation of the normalised load across nodes.
        public var loadStandardDeviation: Double
        /// Fraction of nodes with no job while some node has more than one job per CPU.
        public var idleWhileOverloaded: Double
        /// Jobs running or migrating.
        public var jobsInSystem: Int
        /// Jobs finished so far.
        public var jobsCompleted: Int
        /// Migrations started so far, and per second over the last interval.
        public var migrations: Int
        public var migrationsPerSecond: Double
        /// Jobs that moved more than twice (bouncing).
        public var bouncingJobs: Int
        /// Age of the load a node holds for another (since its owner published it), median and
        /// 99th percentile over sampled pairs.
        public var informationAgeMedian: Double
        public var informationAgeP99: Double
        /// How long the held load has been out of date (0 when it is the owner's latest).
        public var stalenessMedian: Double
        public var stalenessP99: Double
        /// Fraction of sampled pairs whose view is not the owner's latest load.
        public var staleFraction: Double
    }
}
