extension Balancer {
    /// When a migration's pre-copy stops: the same rules as the source agent's
    /// (`Migration.Source.Policy`), which the agent copies here so the prediction follows what
    /// the migration will do.
    public struct PrecopyRules: Hashable, Sendable {
        /// Pre-copy rounds at most; 0: the final dump at once.
        public var maximumRounds = 5
        /// A round that copies fewer bytes than this is the last.
        public var smallRound: Double = 8 * 1024 * 1024
        /// A round that copies no less than this share of the round before is the last.
        public var shrinkFactor = 0.8

        public init() {}
    }

    /// What moving a job is predicted to take, from its memory, how fast it writes it, and the
    /// link's rate: pre-copy rounds while it runs, each copying what the last one let it dirty,
    /// until a round is small or stops shrinking; then the final dump copies what the last
    /// round let it dirty while the job is frozen, and the destination restores the job (its
    /// memory then fills in while it runs).
    public struct MovePrediction: Hashable, Sendable {
        /// Pre-copy rounds (the final dump not counted).
        public var rounds: Int
        /// Bytes the final dump copies with the job frozen.
        public var finalBytes: Double
        /// Bytes sent in all.
        public var sentBytes: Double
        /// How long the job would be stopped: the final transfer and the restore.
        public var frozen: Duration
        /// The whole move.
        public var total: Duration
    }

    /// The prediction for a job of `memoryBytes` writing `dirtyRate` bytes a second (0: unknown,
    /// or a job that does not write), at ``Settings/transferRate``, with ``Settings/restoreSeconds``.
    public static func predictMove(memoryBytes: Double, dirtyRate: Double, settings: Settings) -> MovePrediction {
        let rate = max(settings.transferRate, 1)
        let memory = max(memoryBytes, 0)
        let dirtying = max(dirtyRate, 0)
        let rules = settings.precopy
        var sent = 0.0, seconds = 0.0, rounds = 0
        var final = memory
        var bytes = memory
        var previous: Double?
        while rounds < rules.maximumRounds {
            rounds += 1
            let time = bytes / rate
            sent += bytes
            seconds += time
            let dirtied = min(memory, dirtying * time)
            final = dirtied
            let converged = bytes < rules.smallRound || previous.map { bytes >= rules.shrinkFactor * $0 } ?? false
            if converged { break }
            previous = bytes
            bytes = dirtied
        }
        let frozen = final / rate + max(settings.restoreSeconds, 0)
        return MovePrediction(
            rounds: rounds, finalBytes: final, sentBytes: sent + final,
            frozen: .seconds(frozen), total: .seconds(seconds + frozen))
    }
}
