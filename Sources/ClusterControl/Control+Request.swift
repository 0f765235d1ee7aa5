extension Control {
    /// A request to the agent: a command and the fields that command uses.
    public struct Request: Codable, Sendable, Equatable {
        /// What to do.
        public enum Command: String, Codable, Sendable, CaseIterable {
            /// Every member this node knows, itself included (``Control/Response/nodes``).
            case nodes
            /// This node: settings with their sources, counters (``Control/Response/status``).
            case status
            /// Start ``Request/run`` as a job of the calling user (``Control/Response/job``).
            case run
            /// The jobs this node runs or ran (``Control/Response/jobs``).
            case ps
            /// Kill ``Request/job`` (SIGKILL to its whole PID namespace).
            case kill
            /// Output of ``Request/job`` from ``Request/offsets`` on (``Control/Response/logs``).
            case logs
            /// Move ``Request/job`` to ``Request/node`` (`home`: its home node) with its state
            /// (``Control/Response/migration``).
            case migrate
            /// Pin ``Request/job`` to the node it runs on (the balancer never moves it), or, with
            /// ``Request/stay`` false, release it.
            case stay
            /// Move every running job off ``Request/node`` (before a shutdown).
            case drain
            /// This node's automatic balancing: switch it to ``Request/enabled`` (root), or
            /// report it (``Control/Response/balancing``).
            case balance
            /// The head's admission book: who asked to join (``Control/Response/admissions``).
            case pending
            /// Admit the nodes ``Request/selector`` names (root, on the head).
            case admit
            /// Deny the nodes ``Request/selector`` names (root, on the head).
            case deny
        }

        public var command: Command
        /// `run`: what to start.
        public var run: RunSpec?
        /// `kill`, `logs`, `migrate`: the job id.
        public var job: String?
        /// `logs`: bytes of stdout and stderr already read.
        public var offsets: LogOffsets?
        /// `run`: the node to start the job on (host name or node id); nil: this node.
        /// `migrate`: the node to move it to, or `home`.
        public var node: String?
        /// `ps`: only this node's jobs, not the whole cluster's.
        public var local: Bool?
        /// `balance`: on or off; nil only asks.
        public var enabled: Bool?
        /// `stay`: pin (true) or release (false).
        public var stay: Bool?
        /// `migrate`: skip pre-copy (dump once, frozen all along; for benchmarks).
        public var noPrecopy: Bool?
        /// `admit`, `deny`: a fingerprint (or 4+ of its digits), MAC, node id, host name, or `all`.
        public var selector: String?

        public init(
            _ command: Command, run: RunSpec? = nil, job: String? = nil, offsets: LogOffsets? = nil,
            node: String? = nil, local: Bool? = nil, noPrecopy: Bool? = nil, stay: Bool? = nil, enabled: Bool? = nil,
            selector: String? = nil
        ) {
            self.selector = selector
            self.enabled = enabled
            self.stay = stay
            self.noPrecopy = noPrecopy
            self.command = command
            self.run = run
            self.job = job
            self.offsets = offsets
            self.node = node
            self.local = local
        }
    }

    /// A job to start: the command line and the caller's working directory and environment.
    /// The user it runs as is not part of the request: the agent takes it from the socket's
    /// peer credentials.
    public struct RunSpec: Codable, Sendable, Equatable {
        /// The program and its arguments; the program is looked up in `PATH` as a shell would.
        public var arguments: [String]
        /// The directory the job starts in (the caller's current directory).
        public var workingDirectory: String
        /// `NAME=value` pairs the job gets (the caller's environment).
        public var environment: [String]
        /// Pin the job to the node it runs on: the balancer never moves it.
        public var stay: Bool

        public init(arguments: [String], workingDirectory: String, environment: [String], stay: Bool = false) {
            self.arguments = arguments
            self.workingDirectory = workingDirectory
            self.environment = environment
            self.stay = stay
        }
    }

    /// How far a reader has got in a job's two output files.
    public struct LogOffsets: Codable, Sendable, Equatable {
        public var stdout: UInt64
        public var stderr: UInt64

        public init(stdout: UInt64 = 0, stderr: UInt64 = 0) {
            self.stdout = stdout
            self.stderr = stderr
        }
    }
}
