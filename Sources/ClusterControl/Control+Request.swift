extension Control {
    /// A request to the agent, with exactly what its command needs.
    ///
    /// On the wire it is one JSON object: `{"command": "kill", "job": "4c4201-7"}`, the fields
    /// named after what they hold (`run`, `job`, `offsets`, `node`, `local`, `precopy`, `noPrecopy`, `postcopy`, `cancel`, `stay`,
    /// `enabled`, `selector`); a field a command does not use is ignored, one it needs and lacks
    /// makes the request unreadable (``Malformed``).
    public enum Request: Sendable, Equatable {
        /// Every member this node knows, itself included (``Control/Response/nodes(_:)``).
        case nodes
        /// This node: settings with their sources, counters (``Control/Response/status(_:)``).
        case status
        /// Start a job of the calling user, on `node` (host name or node id; nil: this node)
        /// (``Control/Response/job(_:)``).
        case run(RunSpec, node: String? = nil)
        /// The jobs this node runs or ran, or, unless `localOnly`, the whole cluster's
        /// (``Control/Response/jobs(_:warnings:)``).
        case ps(localOnly: Bool = false)
        /// Kill the job (SIGKILL to its whole PID namespace).
        case kill(job: String)
        /// The job's output from `from` on (``Control/Response/logs(_:)``). With `wait`, the
        /// agent answers when there is new output or the job has ended, or after
        /// ``logsWaitLimit`` with nothing: a follower needs no polling of its own.
        case logs(job: String, from: LogOffsets = LogOffsets(), wait: Bool = false)
        /// Move the job to `node` (`home`: its home node) with its state, by `method`
        /// (``Control/Response/migration(_:)``).
        case migrate(job: String, to: String, method: MoveMethod = .automatic)
        /// Stop the job's move before its freeze (`cluster migrate --cancel`); it runs on where
        /// it is (``Control/Response/job(_:)``). On the wire: `migrate` with `cancel: true`.
        case cancelMove(job: String)
        /// Pin the job to the node it runs on (the balancer never moves it), or release it.
        case stay(job: String, pinned: Bool)
        /// Move every running job off `node` (nil: this node) before a shutdown
        /// (``Control/Response/migrations(_:warnings:)``).
        case drain(node: String? = nil)
        /// Switch this node's automatic balancing on or off (root), or, with nil, report it
        /// (``Control/Response/balancing(_:)``).
        case balance(enabled: Bool? = nil)
        /// The head's admission book: who asked to join (``Control/Response/admissions(_:)``).
        case pending
        /// Admit the nodes `selector` names (root, on the head): a fingerprint (or 4+ of its
        /// digits), MAC, node id, host name, or `all`.
        case admit(selector: String)
        /// Deny the nodes `selector` names (root, on the head).
        case deny(selector: String)

        /// A request's name on the wire.
        public enum Command: String, Codable, Sendable, CaseIterable {
            case nodes, status, run, ps, kill, logs, migrate, stay, drain, balance, pending, admit, deny
        }

        public var command: Command {
            switch self {
            case .nodes: .nodes
            case .status: .status
            case .run: .run
            case .ps: .ps
            case .kill: .kill
            case .logs: .logs
            case .migrate, .cancelMove: .migrate
            case .stay: .stay
            case .drain: .drain
            case .balance: .balance
            case .pending: .pending
            case .admit: .admit
            case .deny: .deny
            }
        }

        /// The job a request names, if it names one.
        public var job: String? {
            switch self {
            case .kill(let job), .logs(let job, _, _), .migrate(let job, _, _), .cancelMove(let job), .stay(let job, _): job
            default: nil
            }
        }

        /// How long another agent may take to answer this request when it is forwarded: a
        /// migration answers when the job has moved (minutes for a big job), a drain when
        /// every job has, a start when the job runs; the rest at once.
        public var forwardingTimeout: Duration {
            switch self {
            case .migrate: .seconds(900)
            case .drain: .seconds(4 * 3600)
            // A start waits for the job's namespace init; a one-vCPU node under TCG starting
            // eight placed jobs at once took more than 5 s for the last.
            case .run: .seconds(30)
            default: .seconds(5)
            }
        }

        /// The longest a `logs` request with `wait` is held: below ``forwardingTimeout``, so a
        /// forwarded one is answered before the forwarding node gives up.
        public static let logsWaitLimit: Duration = .seconds(2)

        /// A request that does not say what its command needs; `description` says what.
        public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
            public var description: String

            public init(description: String) {
                self.description = description
            }
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
        /// Pin the job to the node it runs on: the balancer never moves it, and it starts here
        /// (unless `node` names another).
        public var stay: Bool
        /// Start the job only on a node with these labels (`cluster run --label KEY=VALUE`).
        public var labels: [String: String]?
        /// The program as the caller's `PATH` found it: a node the job is placed on must have
        /// it at this path.
        public var program: String?
        /// Set by the node that placed the job elsewhere: why it went there. The target checks
        /// that it can run the job (its directory on storage both see, the program at the same
        /// path) and refuses it otherwise, so the placing node starts it itself.
        public var placement: String?

        public init(
            arguments: [String], workingDirectory: String, environment: [String], stay: Bool = false,
            labels: [String: String]? = nil, program: String? = nil, placement: String? = nil
        ) {
            self.arguments = arguments
            self.workingDirectory = workingDirectory
            self.environment = environment
            self.stay = stay
            self.labels = labels
            self.program = program
            self.placement = placement
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

extension Control.Request: Codable {
    private enum Field: String, CodingKey {
        case command, run, job, offsets, wait, node, local, precopy, noPrecopy, postcopy, cancel, stay, enabled, selector
    }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: Field.self)
        let command = try fields.decode(Command.self, forKey: .command)
        func job() throws -> String {
            guard let id = try fields.decodeIfPresent(String.self, forKey: .job), !id.isEmpty else {
                throw Malformed(description: "\(command.rawValue): no job id given")
            }
            return id
        }
        switch command {
        case .nodes: self = .nodes
        case .status: self = .status
        case .pending: self = .pending
        case .run:
            guard let spec = try fields.decodeIfPresent(Control.RunSpec.self, forKey: .run) else {
                throw Malformed(description: "run: no command given")
            }
            self = .run(spec, node: try fields.decodeIfPresent(String.self, forKey: .node))
        case .ps: self = .ps(localOnly: try fields.decodeIfPresent(Bool.self, forKey: .local) ?? false)
        case .kill: self = .kill(job: try job())
        case .logs:
            self = .logs(
                job: try job(), from: try fields.decodeIfPresent(Control.LogOffsets.self, forKey: .offsets) ?? .init(),
                wait: try fields.decodeIfPresent(Bool.self, forKey: .wait) ?? false)
        case .migrate:
            let id = try job()
            if try fields.decodeIfPresent(Bool.self, forKey: .cancel) ?? false {
                self = .cancelMove(job: id)
                return
            }
            guard let node = try fields.decodeIfPresent(String.self, forKey: .node), !node.isEmpty else {
                throw Malformed(description: "migrate: no destination node given")
            }
            let precopy = try fields.decodeIfPresent(Bool.self, forKey: .precopy) ?? false
            let noPrecopy = try fields.decodeIfPresent(Bool.self, forKey: .noPrecopy) ?? false
            let postcopy = try fields.decodeIfPresent(Bool.self, forKey: .postcopy) ?? false
            guard [precopy, noPrecopy, postcopy].filter({ $0 }).count <= 1 else {
                throw Malformed(description: "migrate: precopy, noPrecopy and postcopy do not go together")
            }
            self = .migrate(job: id, to: node, method: postcopy ? .postcopy : noPrecopy ? .stopAndCopy : precopy ? .precopy : .automatic)
        case .stay: self = .stay(job: try job(), pinned: try fields.decodeIfPresent(Bool.self, forKey: .stay) ?? true)
        case .drain: self = .drain(node: try fields.decodeIfPresent(String.self, forKey: .node))
        case .balance: self = .balance(enabled: try fields.decodeIfPresent(Bool.self, forKey: .enabled))
        case .admit: self = .admit(selector: try fields.decodeIfPresent(String.self, forKey: .selector) ?? "")
        case .deny: self = .deny(selector: try fields.decodeIfPresent(String.self, forKey: .selector) ?? "")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: Field.self)
        try fields.encode(command, forKey: .command)
        switch self {
        case .nodes, .status, .pending:
            break
        case .run(let spec, let node):
            try fields.encode(spec, forKey: .run)
            try fields.encodeIfPresent(node, forKey: .node)
        case .ps(let localOnly):
            if localOnly { try fields.encode(true, forKey: .local) }
        case .kill(let job):
            try fields.encode(job, forKey: .job)
        case .logs(let job, let offsets, let wait):
            try fields.encode(job, forKey: .job)
            try fields.encode(offsets, forKey: .offsets)
            if wait { try fields.encode(true, forKey: .wait) }
        case .migrate(let job, let node, let method):
            try fields.encode(job, forKey: .job)
            try fields.encode(node, forKey: .node)
            if method == .precopy { try fields.encode(true, forKey: .precopy) }
            if method == .stopAndCopy { try fields.encode(true, forKey: .noPrecopy) }
            if method == .postcopy { try fields.encode(true, forKey: .postcopy) }
        case .cancelMove(let job):
            try fields.encode(job, forKey: .job)
            try fields.encode(true, forKey: .cancel)
        case .stay(let job, let pinned):
            try fields.encode(job, forKey: .job)
            try fields.encode(pinned, forKey: .stay)
        case .drain(let node):
            try fields.encodeIfPresent(node, forKey: .node)
        case .balance(let enabled):
            try fields.encodeIfPresent(enabled, forKey: .enabled)
        case .admit(let selector), .deny(let selector):
            try fields.encode(selector, forKey: .selector)
        }
    }
}
