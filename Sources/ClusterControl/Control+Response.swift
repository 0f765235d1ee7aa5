extension Control {
    /// The agent's answer: the field its request's command fills, or `error`.
    public struct Response: Codable, Sendable, Equatable {
        public var nodes: [Node]?
        public var status: Status?
        /// `run`, `kill`: the job as it is now.
        public var job: Job?
        /// `ps`: every job this node knows.
        public var jobs: [Job]?
        /// `logs`: the next piece of output.
        public var logs: LogChunk?
        /// `migrate`: what the move took.
        public var migration: MigrationReport?
        /// `balance`: whether this node's automatic balancing is on.
        public var balancing: Bool?
        /// `drain`: every move made.
        public var migrations: [MigrationReport]?
        /// Why the request failed, as one sentence.
        public var error: String?
        /// What went partly wrong in a request that still answered (a node that did not answer
        /// `ps`).
        public var warnings: [String]?
        /// `pending`, `admit`, `deny`: the nodes concerned.
        public var admissions: [Admission]?

        public init(
            nodes: [Node]? = nil, status: Status? = nil, job: Job? = nil, jobs: [Job]? = nil,
            logs: LogChunk? = nil, migration: MigrationReport? = nil, migrations: [MigrationReport]? = nil,
            balancing: Bool? = nil, error: String? = nil
        ) {
            self.balancing = balancing
            self.migrations = migrations
            self.migration = migration
            self.nodes = nodes
            self.status = status
            self.job = job
            self.jobs = jobs
            self.logs = logs
            self.error = error
        }
    }
}
