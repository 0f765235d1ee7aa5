extension Wire {
    /// What a node publishes about itself with every member update: capacity and current load
    /// (so balancers on other nodes can place jobs), and its name and boot time (for `cluster
    /// nodes`).
    ///
    /// Integers only (fixed-point load), so the encoding has no floating-point format to agree on.
    public struct NodeLoad: Hashable, Sendable {
        /// Online CPUs.
        public var cpus: UInt16
        /// Nominal CPU speed in MHz.
        public var cpuMHz: UInt32
        /// One-minute load average times 1000 (1.5 is 1500).
        public var loadMilli: UInt32
        /// Available memory in KiB (`MemAvailable`).
        public var freeMemoryKiB: UInt64
        /// Jobs the node's agent is running.
        public var runningJobs: UInt32
        /// The agent's version string, e.g. `0.3.1`.
        public var agentVersion: String
        /// The node's host name.
        public var hostname: String
        /// When the node booted, in seconds since the Unix epoch (its own clock).
        public var bootTime: UInt64
        /// Installed memory in KiB (`MemTotal`), for the balancer's memory utilisation.
        public var memoryTotalKiB: UInt64
        /// Whether the node takes jobs from others: its balancing is on and CRIU works there.
        public var acceptsJobs: Bool
        /// Whether the node exports the cluster's shared directory (the head): nodes that know
        /// no server mount it from the member that says so.
        public var sharesDirectory: Bool

        /// Creates a load record; every field defaults to zero/empty for nodes not yet measured.
        public init(
            cpus: UInt16 = 0, cpuMHz: UInt32 = 0, loadMilli: UInt32 = 0,
            freeMemoryKiB: UInt64 = 0, runningJobs: UInt32 = 0, agentVersion: String = "",
            hostname: String = "", bootTime: UInt64 = 0, memoryTotalKiB: UInt64 = 0, acceptsJobs: Bool = false,
            sharesDirectory: Bool = false
        ) {
            self.memoryTotalKiB = memoryTotalKiB
            self.acceptsJobs = acceptsJobs
            self.sharesDirectory = sharesDirectory
            self.cpus = cpus
            self.cpuMHz = cpuMHz
            self.loadMilli = loadMilli
            self.freeMemoryKiB = freeMemoryKiB
            self.runningJobs = runningJobs
            self.agentVersion = agentVersion
            self.hostname = hostname
            self.bootTime = bootTime
        }
    }
}
