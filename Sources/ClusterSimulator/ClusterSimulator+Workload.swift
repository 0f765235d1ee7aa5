extension ClusterSimulator {
    /// The jobs a run starts: a burst on a few nodes at the start, plus arrivals at random nodes
    /// throughout. Every job is CPU-bound (always runnable) with a heavy-tailed amount of work
    /// and a log-uniform memory size.
    public struct Workload: Hashable, Sendable {
        /// Nodes that receive the burst (the first ones by index, after a seeded shuffle).
        public var burstNodes = 20
        /// Jobs started on each burst node at the end of the warm-up.
        public var burstJobsPerNode = 50
        /// Further jobs per second over the whole cluster, each at a random node, until the run's
        /// last quarter (so they can finish).
        public var arrivalsPerSecond = 10.0
        /// Smallest work of a job in CPU-seconds on a reference core; work is Pareto distributed
        /// above it with ``workShape``, capped at ``maximumWork``.
        public var minimumWork = 10.0
        /// Pareto shape α: 1.5 gives a mean of 3× the minimum and a heavy tail (a few long jobs
        /// carry much of the work), as measured for Unix process lifetimes.
        public var workShape = 1.5
        /// Cap on a job's work in CPU-seconds.
        public var maximumWork = 200.0
        /// Memory range in MiB, log-uniform.
        public var memoryMiB: ClosedRange<Double> = 16...512

        /// The defaults above.
        public init() {}
    }
}
