extension Balancer {
    /// What the balancer knows about one node: its capacity and its load, as measured locally or
    /// as last gossiped (``Wire/NodeLoad`` plus what the agent knows about the node's switches).
    public struct Node: Hashable, Sendable {
        /// The node's id (``Wire/NodeID``'s raw value).
        public var id: UInt64
        /// Online CPUs.
        public var cpus: Int
        /// Nominal CPU speed in MHz; with ``cpus`` it gives the node's capacity (see
        /// ``Balancer/capacity(of:settings:)``).
        public var cpuMHz: Int
        /// Runnable processes, smoothed over the last seconds (the agent's decaying average).
        public var load: Double
        /// Jobs the node's agent runs, incoming migrations included. Exact and gossiped at once when
        /// it changes, so it covers arrivals the smoothed ``load`` has not caught up with yet.
        public var runningJobs: Int
        /// Physical memory in KiB.
        public var memoryTotalKiB: UInt64
        /// Available memory in KiB (`MemAvailable`).
        public var memoryFreeKiB: UInt64
        /// Whether the node takes migrated jobs: its receive switch is on and its CRIU check
        /// passed. Nodes that do not are never chosen as targets.
        public var acceptsJobs: Bool
        /// Whether the node starts new jobs placed there (its balancing is on; CRIU need not
        /// work): ``Balancer/place(demand:memoryKiB:local:peers:settings:)`` chooses only such peers.
        public var startsJobs: Bool
        /// How old this information is (nil for the local node, whose figures are current).
        public var informationAge: Duration?

        /// Creates a node record.
        public init(
            id: UInt64, cpus: Int, cpuMHz: Int, load: Double, runningJobs: Int = 0,
            memoryTotalKiB: UInt64, memoryFreeKiB: UInt64, acceptsJobs: Bool = true,
            informationAge: Duration? = nil, startsJobs: Bool? = nil
        ) {
            self.startsJobs = startsJobs ?? acceptsJobs
            self.id = id
            self.cpus = cpus
            self.cpuMHz = cpuMHz
            self.load = load
            self.runningJobs = runningJobs
            self.memoryTotalKiB = memoryTotalKiB
            self.memoryFreeKiB = memoryFreeKiB
            self.acceptsJobs = acceptsJobs
            self.informationAge = informationAge
        }
    }
}
