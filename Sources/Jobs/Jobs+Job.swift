import Glibc
import NodeError
import Processes

extension Jobs {
    /// Everything one node holds about one job: its record (what travels and survives the
    /// agent, `job.json`) and where it stands here. Plain values: the ``Supervisor`` keeps one
    /// per job and does the I/O; what a job's end or a migration does to it is decided here.
    public struct Job: Sendable, Equatable {
        /// Where a job stands on this node.
        public enum Phase: Sendable, Equatable {
            /// Its namespace init runs as host pid `initPID` (nil: `unshare` started, but no
            /// init was found under it).
            case running(initPID: pid_t?)
            /// Being moved away (``Supervisor/beginMigration(_:)``): it cannot be killed or
            /// offered twice; the final dump may have stopped it.
            case migrating(initPID: pid_t)
            /// Its init ended; ``Record/state`` says how.
            case ended
            /// It moved to another node, which has the live record.
            case moved
        }

        /// How this node learns that the job ended.
        public enum Watch: Sendable, Equatable {
            /// Its init or `unshare` is this agent's child (or, restored, its grandchild under
            /// the subreaper): the ``Reaper`` reports the exit status.
            case reaped
            /// Started by an earlier agent: not our child, so /proc is polled and the exit
            /// status is lost.
            case polled
        }

        /// Where a move away stands, and what its user asked of it meanwhile.
        public struct Move: Sendable, Equatable {
            public enum Stage: Sendable, Equatable {
                /// Pre-copy: the job runs; a cancel or kill stops the move at the next step.
                case copying
                /// The final dump has begun: the job is (being) frozen for the hand-over.
                case freezing
                /// The restore request may have left: only the move's outcome says where the
                /// job runs, so a kill waits for it.
                case handingOver
            }

            public var stage: Stage = .copying
            /// `cluster migrate --cancel` arrived while copying.
            public var cancelled = false
            /// A kill that arrived during the hand-over, by this uid: carried out where the job
            /// lands (here if the move fails, on the destination if it succeeds).
            public var killAfterwards: UInt32?

            public init() {}
        }

        /// What a kill request does.
        public enum KillAction: Sendable, Equatable {
            /// SIGKILL to the job's init now (a move in its copy or freeze stops with it).
            case now
            /// The job is being handed over: it is killed where it lands.
            case afterHandOver
        }

        public var record: Record
        public var phase: Phase
        public var watch: Watch
        /// The move in progress, while ``phase`` is `migrating`.
        public var move: Move?
        /// Bytes of memory the job wrote per second, last measured (``DirtyPages``, or a move's
        /// pre-copy rounds); nil until measured.
        public var dirtyRate: Double?
        /// When the job's soft-dirty bits were last cleared for a measurement still to be read.
        public var dirtyClearedAt: ContinuousClock.Instant?
        /// This agent sent SIGKILL: `unshare` does not report a killed init reliably
        /// (util-linux 2.38 exits 1 after "sigprocmask unblock failed"), so the agent records
        /// what it did.
        public var killRequested = false

        public init(record: Record, phase: Phase, watch: Watch = .reaped) {
            self.record = record
            self.phase = phase
            self.watch = watch
        }

        public var id: String { record.id }

        /// The namespace init's host pid while the job runs here (migrating or not).
        public var initPID: pid_t? {
            switch phase {
            case .running(let pid): pid
            case .migrating(let pid): pid
            case .ended, .moved: nil
            }
        }

        /// Whether the job's processes are on this node.
        public var isHere: Bool { initPID != nil }

        public var isMigrating: Bool {
            if case .migrating = phase { return true }
            return false
        }

        /// The job's init ended (`exit` nil: the status is unknown, the job was polled). Returns
        /// whether anything changed (a job that already ended or moved away stays as it is).
        public mutating func ended(_ exit: Processes.Exit?, cpuSeconds: Double?, at now: UInt64) -> Bool {
            guard record.state == .running, phase != .moved, phase != .ended else { return false }
            phase = .ended
            if let cpuSeconds { record.cpuSecondsAtEnd = cpuSeconds }
            if killRequested {
                killRequested = false
                record.state = .killed(SIGKILL)
            } else {
                switch exit {
                case .exited(let code): record.state = .exited(code)
                case .signaled(let signal): record.state = .killed(signal)
                case nil: record.state = .failed("ended while adopted by a restarted agent; exit status unknown")
                }
            }
            record.endedAt = now
            return true
        }

        /// Why the job cannot be moved now, or nil (and it is marked migrating).
        public mutating func beginMigration() -> NodeError? {
            guard record.state == .running, case .running(let pid?) = phase else {
                return NodeError(.conflict, isMigrating ? "job \(id) is already migrating" : "job \(id) is not running here (\(record.state.name))")
            }
            phase = .migrating(initPID: pid)
            move = Move()
            // CRIU's pre-copy clears the soft-dirty bits: a measurement under way is void.
            dirtyClearedAt = nil
            return nil
        }

        /// The migration is over and the job runs on here. Returns the uid of a kill that
        /// waited for the hand-over's outcome, to carry out now.
        @discardableResult
        public mutating func endMigration() -> UInt32? {
            if case .migrating(let pid) = phase { phase = .running(initPID: pid) }
            let kill = move?.killAfterwards
            move = nil
            return kill
        }

        /// Why the move must stop before its next step, or nil: the user cancelled it or
        /// killed the job. Checked between pre-copy steps and frames.
        public var moveStop: NodeError? {
            guard move != nil else { return nil }
            if phase == .ended { return NodeError(.conflict, "job \(id) ended during its move") }
            if killRequested { return NodeError(.conflict, "job \(id) was killed during its move") }
            if move?.cancelled == true { return NodeError(.conflict, "the move of job \(id) was cancelled (`cluster migrate --cancel`)") }
            return nil
        }

        /// The final dump is about to begin; nil, or why not (a cancel or kill came first).
        public mutating func beginFreeze() -> NodeError? {
            if let stop = moveStop { return stop }
            move?.stage = .freezing
            return nil
        }

        /// The restore request is about to leave; nil, or why not (the job was killed while
        /// it was being dumped).
        public mutating func beginHandOver() -> NodeError? {
            if let stop = moveStop { return stop }
            move?.stage = .handingOver
            return nil
        }

        /// `cluster migrate --cancel` by `uid`: nil when the move will stop (before the freeze),
        /// or why not.
        public mutating func cancelMove(by uid: UInt32) -> NodeError? {
            guard uid == 0 || uid == record.uid else { return NodeError(.permission, "job \(id) belongs to \(record.owner); only they or root can cancel its move") }
            guard isMigrating, let stage = move?.stage else { return NodeError(.conflict, "job \(id) is not moving") }
            guard stage == .copying else {
                return NodeError(.conflict, "job \(id) is already frozen for its hand-over; it runs at the destination in a moment, or here again if that fails")
            }
            move?.cancelled = true
            return nil
        }

        /// The destination confirmed: the job lives there now (`moved`: the destination's
        /// record, when known). Returns the init to kill, if any.
        public mutating func moved(to moved: Record?, at now: UInt64) -> pid_t? {
            let pid = initPID
            move = nil
            record.state = .moved(moved?.currentNode ?? "another node")
            if let moved {
                record.migrations = moved.migrations
                record.currentNode = moved.currentNode
            }
            record.endedAt = now
            phase = .moved
            return pid
        }

        /// What a kill by `uid` does now, or why it may not. A job in its copy or freeze stage
        /// is killed at once (the move then stops: nothing was handed over); one being handed
        /// over is killed where it lands, so it is neither lost nor left running twice.
        public mutating func kill(by uid: UInt32) -> Result<KillAction, NodeError> {
            guard uid == 0 || uid == record.uid else { return .failure(NodeError(.permission, "job \(id) belongs to \(record.owner); only they or root can kill it")) }
            guard record.state == .running, initPID != nil else { return .failure(NodeError(.conflict, "job \(id) is not running (\(record.state.name))")) }
            if move?.stage == .handingOver {
                move?.killAfterwards = uid
                return .success(.afterHandOver)
            }
            killRequested = true
            return .success(.now)
        }
    }
}
