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
        /// Whether the node starts new jobs other nodes place there (`cluster run`): its
        /// balancing is on. Unlike ``acceptsJobs``, CRIU need not work there.
        public var startsJobs: Bool
        /// Whether the node exports the cluster's shared directory (the head): nodes that know
        /// no server mount it from the member that says so.
        public var sharesDirectory: Bool
        /// The node's labels (`cluster.labels`, as `KEY=VALUE`), which `cluster run --label`
        /// selects nodes by: memberlist's node metadata, bounded the same way (``Labels``).
        public var labels: [String: String]

        /// Creates a load record; every field defaults to zero/empty for nodes not yet measured.
        public init(
            cpus: UInt16 = 0, cpuMHz: UInt32 = 0, loadMilli: UInt32 = 0,
            freeMemoryKiB: UInt64 = 0, runningJobs: UInt32 = 0, agentVersion: String = "",
            hostname: String = "", bootTime: UInt64 = 0, memoryTotalKiB: UInt64 = 0, acceptsJobs: Bool = false,
            sharesDirectory: Bool = false, labels: [String: String] = [:], startsJobs: Bool = false
        ) {
            self.startsJobs = startsJobs
            self.labels = labels
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

extension Wire.NodeLoad {
    /// The rules a node's labels follow, checked where they are configured and again where
    /// they are decoded from a peer: at most ``maximumCount`` labels, each key 1–63 and each
    /// value 0–63 of `A-Z a-z 0-9 . _ -` (so the `KEY=VALUE,...` text needs no escaping), at
    /// most ``maximumEncodedBytes`` in all (memberlist's 512-byte metadata bound).
    public enum Labels {
        public static let maximumCount = 16
        public static let maximumEncodedBytes = 512

        /// Why `labels` break the rules, or nil.
        public static func problem(_ labels: [String: String]) -> String? {
            guard labels.count <= maximumCount else { return "\(labels.count) labels; at most \(maximumCount)" }
            for (key, value) in labels {
                guard (1...63).contains(key.utf8.count), key.utf8.allSatisfy(isLabelByte) else {
                    return "label key \"\(key.prefix(70))\": expected 1–63 of A-Z a-z 0-9 . _ -"
                }
                guard value.utf8.count <= 63, value.utf8.allSatisfy(isLabelByte) else {
                    return "label \(key)'s value \"\(value.prefix(70))\": expected up to 63 of A-Z a-z 0-9 . _ -"
                }
            }
            guard encode(labels).utf8.count <= maximumEncodedBytes else { return "labels take over \(maximumEncodedBytes) bytes" }
            return nil
        }

        static func isLabelByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }

        /// `KEY=VALUE,...`, keys sorted.
        public static func encode(_ labels: [String: String]) -> String {
            labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }

        /// The labels `text` holds, or nil if it breaks the rules.
        public static func decode(_ text: String) -> [String: String]? {
            guard text.utf8.count <= maximumEncodedBytes else { return nil }
            var labels: [String: String] = [:]
            for pair in text.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, labels[String(parts[0])] == nil else { return nil }
                labels[String(parts[0])] = String(parts[1])
            }
            return problem(labels) == nil ? labels : nil
        }
    }
}
