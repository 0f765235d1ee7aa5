extension Balancer {
    /// A migration the policy asks for: move `job` to `target`.
    public struct Decision: Hashable, Sendable {
        /// Why a job moves.
        public enum Reason: String, Hashable, Sendable {
            /// The job costs less on the target by more than the stability margin.
            case load
            /// The local node is short of memory; the job leaves to make room.
            case memory
        }

        /// The job to move.
        public var job: String
        /// The node to move it to.
        public var target: UInt64
        /// Why.
        public var reason: Reason
        /// Marginal cost of the job here minus its marginal cost on the target (cost units, see
        /// ``Balancer/cost(of:settings:)``): how much the cluster's cost drops.
        public var estimatedGain: Double
        /// Estimated time of the whole move (``Balancer/predictMove(memoryBytes:dirtyRate:settings:)``).
        public var migrationTime: Duration
        /// Estimated time the job is stopped by the move.
        public var frozen: Duration

        /// Creates a decision.
        public init(job: String, target: UInt64, reason: Reason, estimatedGain: Double, migrationTime: Duration, frozen: Duration = .zero) {
            self.job = job
            self.target = target
            self.reason = reason
            self.estimatedGain = estimatedGain
            self.migrationTime = migrationTime
            self.frozen = frozen
        }
    }
}
