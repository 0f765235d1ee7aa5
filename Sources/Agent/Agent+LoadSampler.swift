#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterWire

extension Agent {
    /// Measures this node's capacity and load from /proc: online CPUs and their speed, the
    /// one-minute load average, available memory and the boot time.
    public struct LoadSampler: Sendable {
        /// Prefix for /proc paths (tests point it at a fake tree).
        public var root: String
        public var hostname: String
        /// The node's labels, published with every sample.
        public var labels: [String: String]

        public init(root: String = "", hostname: String, labels: [String: String] = [:]) {
            self.root = root
            self.hostname = hostname
            self.labels = labels
        }

        /// One sample; fields that cannot be read stay zero. The node shares the cluster's
        /// directory while `clusterd configure` says it exports it (the head).
        public func sample(runningJobs: UInt32 = 0, acceptsJobs: Bool = false, startsJobs: Bool = false) -> Wire.NodeLoad {
            let sharesDirectory = HostFacts.text(root + Configurator.shareFile)?.hasPrefix("export ") ?? false
            let cpuinfo = HostFacts.text(root + "/proc/cpuinfo") ?? ""
            let processors = cpuinfo.split(separator: "\n").filter { $0.hasPrefix("processor") }.count
            let mhz = Self.field("cpu MHz", in: cpuinfo).flatMap { Double($0) }.map { UInt32($0.rounded()) } ?? 0
            let loadMilli = (HostFacts.text(root + "/proc/loadavg")?.split(separator: " ").first)
                .flatMap { Double($0) }.map { UInt32(($0 * 1000).rounded()) } ?? 0
            let meminfo = HostFacts.text(root + "/proc/meminfo") ?? ""
            let available = Self.field("MemAvailable", in: meminfo)?.split(separator: " ").first.flatMap { UInt64($0) } ?? 0
            let total = Self.field("MemTotal", in: meminfo)?.split(separator: " ").first.flatMap { UInt64($0) } ?? 0
            let stat = HostFacts.text(root + "/proc/stat") ?? ""
            let bootTime = stat.split(separator: "\n").first { $0.hasPrefix("btime ") }
                .flatMap { UInt64($0.dropFirst(6)) } ?? 0
            return Wire.NodeLoad(
                cpus: UInt16(clamping: max(processors, 1)), cpuMHz: mhz, loadMilli: loadMilli,
                freeMemoryKiB: available, runningJobs: runningJobs, agentVersion: Agent.version,
                hostname: hostname, bootTime: bootTime, memoryTotalKiB: total, acceptsJobs: acceptsJobs,
                sharesDirectory: sharesDirectory, labels: labels, startsJobs: startsJobs)
        }

        /// The value after `name` and the colon on the first line that starts with `name`.
        static func field(_ name: String, in text: String) -> String? {
            for line in text.split(separator: "\n") where line.hasPrefix(name) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                return String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            }
            return nil
        }

        /// Whether a new sample differs enough from the published one to gossip it: any change
        /// in CPUs, jobs or version, load moved by ≥ 0.05 or free memory by ≥ 1%. Keeps the
        /// incarnation (and gossip traffic) from churning on noise.
        public static func worthPublishing(_ new: Wire.NodeLoad, over old: Wire.NodeLoad) -> Bool {
            if new.cpus != old.cpus || new.cpuMHz != old.cpuMHz || new.runningJobs != old.runningJobs
                || new.agentVersion != old.agentVersion || new.hostname != old.hostname || new.bootTime != old.bootTime
                || new.memoryTotalKiB != old.memoryTotalKiB || new.acceptsJobs != old.acceptsJobs
                || new.sharesDirectory != old.sharesDirectory || new.labels != old.labels
                || new.startsJobs != old.startsJobs {
                return true
            }
            let loadDelta = new.loadMilli > old.loadMilli ? new.loadMilli - old.loadMilli : old.loadMilli - new.loadMilli
            let memoryDelta = new.freeMemoryKiB > old.freeMemoryKiB ? new.freeMemoryKiB - old.freeMemoryKiB : old.freeMemoryKiB - new.freeMemoryKiB
            return loadDelta >= 50 || memoryDelta * 100 >= max(old.freeMemoryKiB, 1)
        }
    }
}
