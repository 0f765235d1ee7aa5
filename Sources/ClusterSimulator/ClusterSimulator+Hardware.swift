extension ClusterSimulator {
    /// A simulated node's fixed properties.
    public struct Hardware: Hashable, Sendable {
        /// Online CPUs.
        public var cpus: Int
        /// Nominal speed.
        public var cpuMHz: Int
        /// Physical memory.
        public var memoryTotalKiB: UInt64
        /// Memory the system itself uses.
        public var baseMemoryKiB: UInt64
        /// Whether the node takes migrated jobs.
        public var acceptsJobs: Bool

        /// Creates a node's hardware.
        public init(cpus: Int, cpuMHz: Int, memoryTotalKiB: UInt64, baseMemoryKiB: UInt64, acceptsJobs: Bool = true) {
            self.cpus = cpus
            self.cpuMHz = cpuMHz
            self.memoryTotalKiB = memoryTotalKiB
            self.baseMemoryKiB = baseMemoryKiB
            self.acceptsJobs = acceptsJobs
        }

        /// A mixed cluster: half 4 × 2.0 GHz with 8 GiB, a quarter 8 × 2.4 GHz with 16 GiB, a
        /// quarter 2 × 3.0 GHz with 8 GiB; 1 GiB for the system each; one node in 50 refuses jobs
        /// (receive switch off or failed CRIU check).
        public static func mix(index: Int, draw: UInt64) -> Hardware {
        let gib: UInt64 = 1 << 20
            var hardware = switch draw % 4 {
            case 0, 1: Hardware(cpus: 4, cpuMHz: 2000, memoryTotalKiB: 8 * gib, baseMemoryKiB: gib)
            case 2: Hardware(cpus: 8, cpuMHz: 2400, memoryTotalKiB: 16 * gib, baseMemoryKiB: gib)
            default: Hardware(cpus: 2, cpuMHz: 3000, memoryTotalKiB: 8 * gib, baseMemoryKiB: gib)
            }
            hardware.acceptsJobs = (draw >> 8) % 50 != 0
            return hardware
        }
    }
}
