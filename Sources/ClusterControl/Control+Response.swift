extension Control {
    /// The agent's answer: what its request asked for, or why it failed.
    ///
    /// On the wire it is one JSON object with one field named after what it holds (`nodes`,
    /// `status`, `job`, `jobs`, `logs`, `migration`, `migrations`, `balancing`, `admissions`, or
    /// `error`), and `warnings` beside `jobs` or `migrations` when something went partly wrong.
    public enum Response: Sendable, Equatable {
        /// `nodes`: every member this node knows.
        case nodes([Node])
        /// `status`: this node.
        case status(Status)
        /// `run`, `kill`, `stay`: the job as it is now.
        case job(Job)
        /// `ps`: the jobs, and what went partly wrong (a node that did not answer).
        case jobs([Job], warnings: [String] = [])
        /// `logs`: the next piece of output.
        case logs(LogChunk)
        /// `migrate`: what the move took.
        case migration(MigrationReport)
        /// `drain`: every move made, and the jobs that stayed and why.
        case migrations([MigrationReport], warnings: [String] = [])
        /// `balance`: whether this node's automatic balancing is on.
        case balancing(Bool)
        /// `pending`, `admit`, `deny`: the nodes concerned.
        case admissions([Admission])
        /// The request failed: one sentence saying why.
        case error(String)

        /// The error's sentence, if the request failed.
        public var error: String? {
            if case .error(let sentence) = self { return sentence }
            return nil
        }

        /// What the answer holds, for a message about an answer of the wrong kind.
        public var kind: String {
            switch self {
            case .nodes: "nodes"
            case .status: "status"
            case .job: "job"
            case .jobs: "jobs"
            case .logs: "logs"
            case .migration: "migration"
            case .migrations: "migrations"
            case .balancing: "balancing"
            case .admissions: "admissions"
            case .error: "error"
            }
        }
    }
}

extension Control.Response: Codable {
    private enum Field: String, CodingKey {
        case nodes, status, job, jobs, logs, migration, migrations, balancing, admissions, error, warnings
    }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: Field.self)
        let warnings = try fields.decodeIfPresent([String].self, forKey: .warnings) ?? []
        if let error = try fields.decodeIfPresent(String.self, forKey: .error) {
            self = .error(error)
        } else if let nodes = try fields.decodeIfPresent([Control.Node].self, forKey: .nodes) {
            self = .nodes(nodes)
        } else if let status = try fields.decodeIfPresent(Control.Status.self, forKey: .status) {
            self = .status(status)
        } else if let job = try fields.decodeIfPresent(Control.Job.self, forKey: .job) {
            self = .job(job)
        } else if let jobs = try fields.decodeIfPresent([Control.Job].self, forKey: .jobs) {
            self = .jobs(jobs, warnings: warnings)
        } else if let logs = try fields.decodeIfPresent(Control.LogChunk.self, forKey: .logs) {
            self = .logs(logs)
        } else if let migration = try fields.decodeIfPresent(Control.MigrationReport.self, forKey: .migration) {
            self = .migration(migration)
        } else if let migrations = try fields.decodeIfPresent([Control.MigrationReport].self, forKey: .migrations) {
            self = .migrations(migrations, warnings: warnings)
        } else if let balancing = try fields.decodeIfPresent(Bool.self, forKey: .balancing) {
            self = .balancing(balancing)
        } else if let admissions = try fields.decodeIfPresent([Control.Admission].self, forKey: .admissions) {
            self = .admissions(admissions)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "an answer with none of the fields an answer holds"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: Field.self)
        switch self {
        case .nodes(let nodes): try fields.encode(nodes, forKey: .nodes)
        case .status(let status): try fields.encode(status, forKey: .status)
        case .job(let job): try fields.encode(job, forKey: .job)
        case .jobs(let jobs, let warnings):
            try fields.encode(jobs, forKey: .jobs)
            if !warnings.isEmpty { try fields.encode(warnings, forKey: .warnings) }
        case .logs(let logs): try fields.encode(logs, forKey: .logs)
        case .migration(let report): try fields.encode(report, forKey: .migration)
        case .migrations(let reports, let warnings):
            try fields.encode(reports, forKey: .migrations)
            if !warnings.isEmpty { try fields.encode(warnings, forKey: .warnings) }
        case .balancing(let on): try fields.encode(on, forKey: .balancing)
        case .admissions(let admissions): try fields.encode(admissions, forKey: .admissions)
        case .error(let sentence): try fields.encode(sentence, forKey: .error)
        }
    }
}
