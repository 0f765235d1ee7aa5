import Balancer
import Membership

extension ClusterSimulator {
    /// Everything a run depends on; the same configuration and seed give the same run.
    public struct Configuration: Sendable {
        /// Nodes in the cluster.
        public var nodes = 1000
        /// Simulated time after the warm-up.
        public var duration: Duration = .seconds(300)
        /// Simulated time before the first job arrives: the membership forms and its queue of
        /// join news drains: with 1,000 nodes each node has ~1,000 updates to send 20 times, ≈ 85 s at
        /// 8 updates a datagram and ~30 datagrams a second. Load updates that replace join news
        /// before it drained stay "urgent" (Membership.Broadcast) and starve the others, so jobs
        /// start only after that (see Docs/balancing.md).
        public var warmUp: Duration = .seconds(100)
        /// Seeds every random choice (hardware, workload, membership, loss).
        public var seed: UInt64 = 1
        /// Whether nodes run the balancer at all; off: every node's send switch is off.
        public var balancing = true
        /// Whether each job starts where `Balancer.place` puts it (as `cluster run` does) rather
        /// than on the node it arrives at.
        public var placement = false
        /// The policy's parameters, the same for every node.
        public var settings = Balancer.Settings()
        /// The membership protocol's parameters.
        public var membership = Membership.Configuration()
        /// The jobs.
        public var workload = Workload()
        /// Simulation step: the clock's resolution. Datagrams arrive at the first step after
        /// their latency, so a round trip takes at least two steps.
        public var step: Duration = .milliseconds(10)
        /// One-way network latency.
        public var latency: Duration = .milliseconds(1)
        /// Fraction of datagrams lost, 0...1.
        public var lossRate = 0.0
        /// Bytes per second a migration really copies (the balancer's ``Balancer/Settings/transferRate``
        /// is its estimate).
        public var transferRate = 100_000_000.0
        /// Time constant of each node's decaying load average, sampled once a second.
        public var loadSmoothing: Duration = .seconds(4)
        /// How often the report samples the cluster.
        public var sampleInterval: Duration = .seconds(5)
        /// Node pairs whose information age is sampled each time.
        public var agePairsPerSample = 2000

        /// The defaults above.
        public init() {}
    }
}
