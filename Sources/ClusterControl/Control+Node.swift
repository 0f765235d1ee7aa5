extension Control {
    /// One member as a node sees it (the `cluster nodes` row).
    public struct Node: Codable, Sendable, Equatable {
        /// The node id, 16 hex digits.
        public var id: String
        public var hostname: String
        /// `host:port` where its agent listens.
        public var address: String
        /// What the answering node's membership says of it.
        public var state: State
        /// Whether this row is the answering node itself.
        public var isSelf: Bool
        public var incarnation: UInt64
        public var cpus: Int
        public var cpuMHz: Int
        /// One-minute load average.
        public var load: Double
        public var freeMemoryKiB: UInt64
        public var jobs: Int
        /// Seconds since the node booted (by its own clock); nil when unknown.
        public var uptimeSeconds: Int?
        public var agentVersion: String
        /// Seconds since the answering node saw this member's state change (first heard of it,
        /// suspected it, declared it dead, saw it come back): benchmarks turn it into the
        /// instant a join or a death was seen. For the node itself: since the agent started.
        public var stateChangedSecondsAgo: Double
        /// Whether it exports the cluster's shared directory (the head); nil from older agents.
        public var sharesDirectory: Bool?
        /// Its labels (`cluster.labels`), which `cluster run --label` selects by; nil: none.
        public var labels: [String: String]?

        public init(
            id: String, hostname: String, address: String, state: State, isSelf: Bool, incarnation: UInt64,
            cpus: Int, cpuMHz: Int, load: Double, freeMemoryKiB: UInt64, jobs: Int, uptimeSeconds: Int?,
            agentVersion: String, stateChangedSecondsAgo: Double, sharesDirectory: Bool? = nil,
            labels: [String: String]? = nil
        ) {
            self.labels = labels
            self.id = id
            self.hostname = hostname
            self.address = address
            self.state = state
            self.isSelf = isSelf
            self.incarnation = incarnation
            self.cpus = cpus
            self.cpuMHz = cpuMHz
            self.load = load
            self.freeMemoryKiB = freeMemoryKiB
            self.jobs = jobs
            self.uptimeSeconds = uptimeSeconds
            self.agentVersion = agentVersion
            self.stateChangedSecondsAgo = stateChangedSecondsAgo
            self.sharesDirectory = sharesDirectory
        }

        /// A member's state (its name on the wire).
        public enum State: String, Codable, Sendable, CaseIterable {
            /// Answering probes.
            case alive
            /// Missed a probe; declared dead unless it refutes in time.
            case suspect
            /// Confirmed failed.
            case dead
        }
    }
}
