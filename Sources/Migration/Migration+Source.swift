extension Migration {
    /// The source side of one migration, as a state machine of plain values: what to do next,
    /// and, when anything fails, whether the job resumes here, is dropped here, or waits for
    /// the destination's word. No I/O: the agent (`Agent.Migrator`) runs CRIU and the stream
    /// and reports each result here. This is where the source decides that a job never runs
    /// twice and is never lost (Docs/migration.md, "Failure handling").
    ///
    /// The rule: the destination restores a job only after it receives ``Message/restore(round:record:)``.
    /// - Until the source starts sending that request, nothing can run the job but this node:
    ///   any failure resumes it here (with SIGCONT if the final dump had stopped it).
    /// - Once the request may have left, only the destination knows. An answer `failed` means it
    ///   killed what it restored: resume. `restored` means it holds a stopped copy: drop ours,
    ///   then commit. A broken stream means ask it on a new one (``Message/query(job:)``), and keep
    ///   the job stopped until it answers, or until it has been unreachable and declared dead
    ///   for ``Policy/orphanGrace``.
    public struct Source: Sendable, Equatable {
        /// When pre-copy stops, and how long a lost destination is waited for.
        public struct Policy: Sendable, Equatable {
            /// Pre-copy rounds while the job runs; 0 goes straight to the final dump.
            public var maxRounds = 5
            /// A round that copies fewer bytes than this is the last pre-copy round.
            public var smallRound: UInt64 = 8 << 20
            /// A round that copies no less than this share of the round before is the last.
            public var shrinkFactor = 0.8
            /// How long an unreachable destination must be declared dead before the source
            /// resumes a job whose hand-over it lost track of.
            public var orphanGrace: Duration = .seconds(30)
            /// Attempts of one dump step when a process of the job exits while CRIU seizes it.
            public var dumpAttempts = 4
            /// The most the final dump may copy with the job frozen (nil: no limit). Set for
            /// automatic moves: when pre-copy ends because the job writes its memory as fast as
            /// the link drains it, the last round's size says what the final dump would copy;
            /// above this the move is given up before the freeze and the job runs on here
            /// (``Step/giveUp(reason:)``). A user's `cluster migrate` has no limit.
            public var maximumFinalBytes: UInt64?
            /// Likewise as a freeze, seconds: the limit in bytes is this at the rate the move's
            /// own rounds measured (``roundSent(bytes:sendingSeconds:)``), whatever the rate
            /// assumed before (a fresh node's balancer assumed 100 MB/s where the link carried
            /// 26, and let a job that rewrote 200 MB all the time freeze for 22 s).
            public var maximumFinalSeconds: Double?
            /// Post-copy: no pre-copy rounds; the final dump leaves the job's memory here, the
            /// destination runs the job at once and pulls its pages from this node's frozen
            /// copy, which stays until the last page has arrived (Docs/migration.md, "Post-copy").
            public var postcopy = false
            /// Whether this node's frozen copy stays until the destination answers `done` (not
            /// only `restored`). Always so for post-copy. With pre-copy the destination may
            /// restore lazily from its own copy of the images (Docs/migration.md, "Lazy restore
            /// from the destination's images"): its job then runs while its memory fills in, and
            /// if that fails it kills its copy and this one resumes.
            public var keepsCopyUntilDone = true

            /// Whether the frozen copy stays after `restored`, until `done`.
            public var holdsCopyAfterCommit: Bool { postcopy || keepsCopyUntilDone }

            public init() {}
        }

        public enum Phase: Sendable, Equatable {
            /// Connecting and offering; the job runs.
            case offering
            /// Pre-copy round `round` (1-based) is being dumped and sent; the job runs.
            case precopy(round: Int)
            /// The final dump of round `round` has started: the job may be stopped here.
            case finalDump(round: Int)
            /// The restore request is on its way or sent: the destination may hold the job.
            case restoring(round: Int)
            /// The destination answered `restored`: it holds a stopped copy.
            case handedOver
            /// After `commit`, until `done`: the destination runs the job while its memory fills
            /// in (post-copy: pulled from this node's frozen copy), and this node keeps that copy.
            case pulling
            /// The stream broke while the destination may hold the job: asking it.
            case asking
            /// Ended: the job runs at the destination; this node's copy is gone.
            case moved
            /// Ended: the job runs here (it never stopped, or was continued).
            case resumed
        }

        /// What the agent does next, between steps that succeed.
        public enum Step: Sendable, Equatable {
            /// Dump round `round` with the job running, on top of round `parent` if any, and send it.
            case preDump(round: Int, parent: Int?)
            /// Stop the job with the final dump of `round` (on top of `parent`), send it, the
            /// job's open files and directory, then the restore request.
            case finalDump(round: Int, parent: Int?)
            /// Stop here, before the freeze: the job writes too fast for this move to be worth
            /// its freeze (``Policy/maximumFinalBytes``). It never stopped; it runs on.
            case giveUp(reason: String)
        }

        /// What the agent does with the job after a failure, or after the destination's answer.
        public enum Resolution: Sendable, Equatable {
            /// Let the job run on here (send SIGCONT if it was stopped), and report `reason`.
            case resume(reason: String)
            /// The destination runs the job: drop this node's copy.
            case drop
            /// Nothing is known yet: ask the destination (again) after `after`.
            case ask(after: Duration)
        }

        /// The destination's answer to a query, or its absence.
        public enum QueryAnswer: Sendable, Equatable {
            case running
            case notRunning
            /// No answer; `declaredDead` says whether membership holds the destination dead.
            case unreachable(declaredDead: Bool)
        }

        public let job: String
        /// The destination's name, for messages.
        public let destination: String
        public let policy: Policy
        public private(set) var phase: Phase = .offering
        /// Bytes each pre-copy round dumped.
        public private(set) var rounds: [UInt64] = []
        /// Whether the final dump has started: from then on the job may be stopped here.
        public private(set) var mayBeStopped = false
        /// When the destination was first seen unreachable and declared dead, while asking.
        private var deadSince: ContinuousClock.Instant?

        public init(job: String, destination: String, policy: Policy = Policy()) {
            self.job = job
            self.destination = destination
            self.policy = policy
        }

        /// Whether the job has ended up somewhere for good.
        public var isFinished: Bool { phase == .moved || phase == .resumed }

        // MARK: Steps that succeed

        /// The destination accepted the offer: the first step.
        public mutating func accepted() -> Step {
            precondition(phase == .offering, "accepted in \(phase)")
            return policy.postcopy ? finalStep(round: 1) : next(round: 1)
        }

        /// The link's rate as this move's rounds measured it, bytes per second.
        public private(set) var measuredRate: Double?

        /// Pre-copy round `round` dumped `bytes` and they were sent in `sendingSeconds`: the
        /// next step.
        public mutating func roundSent(bytes: UInt64, sendingSeconds: Double? = nil) -> Step {
            guard case .precopy(let round) = phase else { preconditionFailure("roundSent in \(phase)") }
            let last = rounds.last
            rounds.append(bytes)
            // Too little to time says nothing about the link.
            if let sendingSeconds, bytes >= 1 << 20, sendingSeconds >= 0.05 { measuredRate = Double(bytes) / sendingSeconds }
            // Converged: the round was small, or no longer shrinking (the job dirties memory as
            // fast as it is copied; more rounds only delay the freeze).
            if bytes < policy.smallRound { return finalStep(round: round + 1) }
            if let last, Double(bytes) >= Double(last) * policy.shrinkFactor { return finalOrGiveUp(round: round + 1, expected: bytes) }
            guard round + 1 <= policy.maxRounds else { return finalOrGiveUp(round: round + 1, expected: bytes) }
            return next(round: round + 1)
        }

        /// The final dump would copy about `expected` bytes (the job dirtied that much during
        /// the last round, and will again): within ``Policy/maximumFinalBytes`` it goes ahead.
        private mutating func finalOrGiveUp(round: Int, expected: UInt64) -> Step {
            var limits = policy.maximumFinalBytes.map { [$0] } ?? []
            if let seconds = policy.maximumFinalSeconds, let rate = measuredRate { limits.append(UInt64(seconds * rate)) }
            if let limit = limits.min(), expected > limit {
                phase = .resumed
                let frozen = measuredRate.map { " (\(Double(Int(Double(expected) / $0 * 10)) / 10) s at the \(Int($0 / 1e6)) MB/s this move measured)" } ?? ""
                return .giveUp(reason: "job \(job) writes its memory faster than the link to \(destination) drains it: pre-copy round \(round - 1) still copied \(expected >> 20) MiB, and the final dump would keep it frozen for that\(frozen); the limit for automatic moves is \(limit >> 20) MiB")
            }
            return finalStep(round: round)
        }

        /// The final dump, the files and the directory were sent; the agent is about to send
        /// the restore request. From this call on the destination may hold the job.
        public mutating func sendingRestore() -> Int {
            guard case .finalDump(let round) = phase else { preconditionFailure("sendingRestore in \(phase)") }
            phase = .restoring(round: round)
            return round
        }

        /// The destination answered the restore request with `failed`: it killed whatever it
        /// restored, so the job can resume here (``failed(_:)`` then says so).
        public mutating func restoreFailedThere() {
            guard case .restoring = phase else { preconditionFailure("restoreFailedThere in \(phase)") }
            phase = .resumed
        }

        /// The destination answered the restore request with `restored`: it holds a stopped
        /// copy. The agent drops this node's copy, then sends `commit`.
        public mutating func restored() {
            guard case .restoring = phase else { preconditionFailure("restored in \(phase)") }
            phase = .handedOver
        }

        /// `commit` was sent (or the copy was dropped and sending failed: the destination runs
        /// the job either way, see ``failed(_:)``).
        public mutating func committed() {
            precondition(phase == .handedOver, "committed in \(phase)")
            phase = policy.holdsCopyAfterCommit ? .pulling : .moved
        }

        /// The destination has every page (it answered `done`). This node's frozen copy goes.
        public mutating func pagesDelivered() {
            precondition(phase == .pulling, "pagesDelivered in \(phase)")
            phase = .moved
        }

        /// The destination could not get every page and killed its copy (it answered
        /// `failed`). ``failed(_:)`` then resumes the frozen copy here.
        public mutating func pullFailedThere() {
            precondition(phase == .pulling, "pullFailedThere in \(phase)")
            phase = .resumed
        }

        // MARK: Failures and answers

        /// Something failed: the destination refused or answered out of turn, a CRIU step failed,
        /// the stream broke, or the destination answered `failed` (after ``restoreFailedThere()``).
        /// Says what becomes of the job. `reason` is for the user.
        public mutating func failed(_ reason: String) -> Resolution {
            switch phase {
            case .offering, .precopy, .finalDump:
                // The restore request never left: no one else can run the job.
                phase = .resumed
                return .resume(reason: reason)
            case .restoring:
                phase = .asking
                return .ask(after: .zero)
            case .handedOver where policy.holdsCopyAfterCommit, .pulling:
                // Our frozen copy is still here. Post-copy: it holds pages the destination
                // lacks, and the destination kills its copy when it loses us before the last
                // page. Otherwise the destination runs its copy. It says which copy lives.
                phase = .asking
                return .ask(after: .zero)
            case .handedOver:
                // Our copy is gone or going; the destination holds the job and runs it once it
                // loses us (or on commit).
                phase = .moved
                return .drop
            case .asking:
                return .ask(after: .milliseconds(500))
            case .moved:
                return .drop
            case .resumed:
                return .resume(reason: reason)
            }
        }

        /// The destination's answer to a query (or none), at `now`.
        public mutating func answered(_ answer: QueryAnswer, at now: ContinuousClock.Instant) -> Resolution {
            precondition(phase == .asking, "answered in \(phase)")
            switch answer {
            case .running:
                phase = .moved
                return .drop
            case .notRunning:
                phase = .resumed
                return .resume(reason: "\(destination) did not restore job \(job)")
            case .unreachable(declaredDead: false):
                // Alive for membership but not answering (a partition or a busy node): wait. The
                // job stays stopped rather than risk running twice.
                deadSince = nil
                return .ask(after: .milliseconds(500))
            case .unreachable(declaredDead: true):
                let since = deadSince ?? now
                deadSince = since
                if now - since > policy.orphanGrace {
                    phase = .resumed
                    return .resume(reason: "\(destination) died while taking over job \(job) (unreachable and declared dead for \(policy.orphanGrace))")
                }
                return .ask(after: .milliseconds(500))
            }
        }

        // MARK: Dump retries

        /// Whether a dump step that failed with `failure` on attempt `attempt` (1-based) is tried
        /// again from an empty directory: a process or thread of the job that exits while CRIU
        /// seizes the tree fails the attempt (CRIU then lets the tree run on), and the next one
        /// sees the tree as it is now. A job that ended altogether fails every attempt.
        public func retriesDump(after failure: CRIU.Failure, attempt: Int) -> Bool {
            failure.kind == .processVanished && attempt < policy.dumpAttempts
        }

        // MARK: Private

        private mutating func next(round: Int) -> Step {
            guard round <= policy.maxRounds else { return finalStep(round: round) }
            phase = .precopy(round: round)
            return .preDump(round: round, parent: round > 1 ? round - 1 : nil)
        }

        private mutating func finalStep(round: Int) -> Step {
            phase = .finalDump(round: round)
            mayBeStopped = true
            return .finalDump(round: round, parent: round > 1 ? round - 1 : nil)
        }
    }
}
