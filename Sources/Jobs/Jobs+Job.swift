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

        public var record: Record
        public var phase: Phase
        public var watch: Watch
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
            return nil
        }

        /// The migration is over and the job runs on here.
        public mutating func endMigration() {
            if case .migrating(let pid) = phase { phase = .running(initPID: pid) }
        }

        /// The destination confirmed: the job lives there now (`moved`: the destination's
        /// record, when known). Returns the init to kill, if any.
        public mutating func moved(to moved: Record?, at now: UInt64) -> pid_t? {
            let pid = initPID
            record.state = .moved(moved?.currentNode ?? "another node")
            if let moved {
                record.migrations = moved.migrations
                record.currentNode = moved.currentNode
            }
            record.endedAt = now
            phase = .moved
            return pid
        }

        /// Why `uid` may not kill the job now, or nil (and the kill is recorded).
        public mutating func kill(by uid: UInt32) -> NodeError? {
            guard uid == 0 || uid == record.uid else { return NodeError(.permission, "job \(id) belongs to \(record.owner); only they or root can kill it") }
            guard record.state == .running, initPID != nil else { return NodeError(.conflict, "job \(id) is not running (\(record.state.name))") }
            guard !isMigrating else { return NodeError(.conflict, "job \(id) is migrating; kill it when it has arrived") }
            killRequested = true
            return nil
        }
    }
}
