extension Jobs {
    /// Everything the node keeps about one job, written to `job.json` in its directory so it
    /// survives an agent restart and travels with the job when it migrates.
    public struct Record: Codable, Sendable, Equatable {
        /// How the job stands.
        public enum State: Codable, Sendable, Equatable {
            case running
            /// Returned from its init process with this status.
            case exited(Int32)
            /// Ended by this signal (`cluster kill` sends SIGKILL).
            case killed(Int32)
            /// Could not be started; the sentence says why.
            case failed(String)
            /// Migrated to this node; the record there is the live one.
            case moved(String)

            public var name: String {
                switch self {
                case .running: "running"
                case .exited: "exited"
                case .killed: "killed"
                case .failed: "failed"
                case .moved: "moved"
                }
            }

            public var code: Int32? {
                switch self {
                case .exited(let code), .killed(let code): code
                case .running, .failed, .moved: nil
                }
            }
        }

        /// One move between nodes.
        public struct Migration: Codable, Sendable, Equatable {
            public var from: String
            public var to: String
            /// Wall-clock seconds since the Unix epoch.
            public var at: UInt64

            public init(from: String, to: String, at: UInt64) {
                self.from = from
                self.to = to
                self.at = at
            }
        }

        public var id: String
        public var arguments: [String]
        public var workingDirectory: String
        public var environment: [String]
        public var uid: UInt32
        public var gid: UInt32
        /// The user's name, or the uid in decimal when the node has no entry for it.
        public var owner: String
        /// Host name of the node it was started on.
        public var homeNode: String
        /// Host name of the node it runs on now.
        public var currentNode: String
        public var stay: Bool
        public var startedAt: UInt64
        public var endedAt: UInt64?
        public var state: State
        public var migrations: [Migration]
        /// The host pid of the job's namespace init on the node it runs on now, so an agent
        /// that restarts can adopt the running job.
        public var hostPID: Int32?
        /// When that process started, clock ticks since boot (tells it from a reused pid).
        public var hostPIDStart: UInt64?
        /// CPU seconds the job used on the node it ended on, set when it ends (/proc has
        /// nothing left to sum by then). A restored process starts its CPU clock at zero, so
        /// this leaves out time used before the job's last move.
        public var cpuSecondsAtEnd: Double?
        /// The supplementary groups the job runs with when it was started at another node's
        /// request (``Trust/peerGroups(_:gid:)``); nil: the user's own, from this node.
        public var supplementaryGroups: [UInt32]?
        /// Where the job was placed when it started, and why (``Control/RunSpec/placement``).
        public var placement: String?

        public init(
            id: String, arguments: [String], workingDirectory: String, environment: [String], uid: UInt32,
            gid: UInt32, owner: String, homeNode: String, stay: Bool, startedAt: UInt64
        ) {
            self.id = id
            self.arguments = arguments
            self.workingDirectory = workingDirectory
            self.environment = environment
            self.uid = uid
            self.gid = gid
            self.owner = owner
            self.homeNode = homeNode
            self.currentNode = homeNode
            self.stay = stay
            self.startedAt = startedAt
            self.state = .running
            self.migrations = []
        }
    }
}
