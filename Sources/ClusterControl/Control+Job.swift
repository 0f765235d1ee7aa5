#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Control {
    /// One job as `cluster ps` shows it.
    public struct Job: Codable, Sendable, Equatable {
        /// Cluster-wide unique: the home node's short id and a counter (`4c4201-7`).
        public var id: String
        /// The command line as started.
        public var arguments: [String]
        /// The user the job runs as.
        public var owner: String
        public var uid: UInt32
        /// The node it was started on, and the node it runs on now (host names).
        public var homeNode: String
        public var currentNode: String
        /// How the job stands.
        public var state: State
        /// The exit status (`exited`) or the signal number (`killed`).
        public var exitCode: Int32?
        /// CPU time (user + system) of the whole job so far, seconds.
        public var cpuSeconds: Double
        /// Resident memory of the whole job, KiB.
        public var memoryKiB: UInt64
        /// How many times it moved between nodes.
        public var migrations: Int
        /// Pinned to its node (`cluster run --stay`, `cluster stay`).
        public var stay: Bool
        /// Wall-clock start, seconds since the Unix epoch.
        public var startedAt: UInt64
        /// Wall-clock end, for jobs that ended.
        public var endedAt: UInt64?
        /// The job's PID inside its own PID namespace (1: it is the namespace's init).
        public var namespacePID: Int32
        /// Bytes of its memory the job writes per second, as last measured (soft-dirty bits,
        /// sampled while balancing is on, or a move's pre-copy rounds); absent until measured.
        /// What decides whether a move would freeze it too long (Docs/balancing.md).
        public var dirtyBytesPerSecond: Double?
        /// Where the job was placed when it started, and why (`placed on node-2 from node-1:
        /// least cost`, `here: /tmp is not shared storage`); absent for a job started with
        /// `--node` or before placement existed.
        public var placement: String?
        /// Set in the answer to a placed start by the node that started it: its member update's
        /// incarnation then. Every later publication of its load counts the job, so the placing
        /// node can stop counting it itself once gossip shows a higher one.
        public var countedAfterIncarnation: UInt64?

        public init(
            id: String, arguments: [String], owner: String, uid: UInt32, homeNode: String, currentNode: String,
            state: State, exitCode: Int32?, cpuSeconds: Double, memoryKiB: UInt64, migrations: Int,
            stay: Bool, startedAt: UInt64, endedAt: UInt64? = nil, namespacePID: Int32, dirtyBytesPerSecond: Double? = nil,
            placement: String? = nil
        ) {
            self.placement = placement
            self.endedAt = endedAt
            self.dirtyBytesPerSecond = dirtyBytesPerSecond
            self.id = id
            self.arguments = arguments
            self.owner = owner
            self.uid = uid
            self.homeNode = homeNode
            self.currentNode = currentNode
            self.state = state
            self.exitCode = exitCode
            self.cpuSeconds = cpuSeconds
            self.memoryKiB = memoryKiB
            self.migrations = migrations
            self.stay = stay
            self.startedAt = startedAt
            self.namespacePID = namespacePID
        }

        /// Whether the job has ended (its output is complete).
        public var hasEnded: Bool { state != .running }

        /// How a job stands (its name on the wire).
        public enum State: String, Codable, Sendable, CaseIterable {
            case running
            /// Its init returned (``Job/exitCode`` holds the status).
            case exited
            /// Ended by a signal (``Job/exitCode`` holds its number).
            case killed
            /// Could not be started.
            case failed
            /// Moved to another node, which lists it now.
            case moved
        }
    }

    /// A piece of a job's output, and where the reader should continue.
    public struct LogChunk: Codable, Sendable, Equatable {
        /// Base64 in JSON.
        public var stdout: Data
        public var stderr: Data
        /// Offsets after these bytes: send them back to get the next piece.
        public var next: LogOffsets
        /// The job as it is now; when it has ended and both pieces are empty, the output is complete.
        public var job: Job

        public init(stdout: Data, stderr: Data, next: LogOffsets, job: Job) {
            self.stdout = stdout
            self.stderr = stderr
            self.next = next
            self.job = job
        }
    }
}

extension Control {
    /// How a job's memory moves (Docs/migration.md).
    public enum MoveMethod: String, Codable, Sendable, Equatable, CaseIterable {
        /// Pre-copy, unless the job writes its memory so fast that its final dump would keep
        /// it frozen for seconds: post-copy then (the agent measures it first). The default.
        case automatic
        /// Rounds of copying while the job runs, then a short final dump.
        case precopy
        /// One dump with the job frozen all along (for benchmarks).
        case stopAndCopy = "stop-and-copy"
        /// A final dump without the memory; the job runs on the destination at once and its
        /// pages follow (a job that writes its memory faster than the link drains it).
        case postcopy
    }

    /// What one migration took (`cluster migrate`, the benchmarks).
    public struct MigrationReport: Codable, Sendable, Equatable {
        public var job: String
        public var from: String
        public var to: String
        /// Bytes of memory pages each pre-copy round copied while the job ran.
        public var precopyRounds: [UInt64]
        /// From the start of the final dump to the destination's confirmation: the job ran
        /// nowhere during this time.
        public var frozenSeconds: Double
        /// The final dump alone: how long the job stood still on the source before the last
        /// images left (CRIU's freeze; the rest of `frozenSeconds` is transfer and restore).
        public var dumpSeconds: Double
        public var totalSeconds: Double
        /// Image and file bytes sent.
        public var bytes: UInt64
        /// Time spent sending them (the stream's rate is `bytes` over this); absent from agents
        /// before session 16.
        public var sendingSeconds: Double?
        /// Restore request sent → the destination's `restored`: its `criu restore`.
        public var restoreSeconds: Double?
        /// Whether the move was a post-copy: `frozenSeconds` then ends when the destination
        /// runs the job, and `pullSeconds` is how long its memory took to follow.
        public var postcopy: Bool?
        /// From `commit` to the destination's `done`: how long the job's memory took to fill
        /// in while it ran there (post-copy: pulled from the source; pre-copy: from the images
        /// the destination holds, when it restored lazily).
        public var pullSeconds: Double?
        /// Why the agent chose the method, for a move it chose (`automatic`).
        public var choice: String?
        /// The most memory-page bytes a round held on the source's disk (tmpfs) at once: 0 when
        /// every pre-copy round went to the destination's page server, the final dump's delta
        /// when it did not; absent from agents before session 21.
        public var stagedBytes: UInt64?

        public init(
            job: String, from: String, to: String, precopyRounds: [UInt64], frozenSeconds: Double, dumpSeconds: Double,
            totalSeconds: Double, bytes: UInt64, sendingSeconds: Double? = nil, restoreSeconds: Double? = nil,
            postcopy: Bool? = nil, pullSeconds: Double? = nil, choice: String? = nil, stagedBytes: UInt64? = nil
        ) {
            self.choice = choice
            self.stagedBytes = stagedBytes
            self.postcopy = postcopy
            self.pullSeconds = pullSeconds
            self.sendingSeconds = sendingSeconds
            self.restoreSeconds = restoreSeconds
            self.dumpSeconds = dumpSeconds
            self.job = job
            self.from = from
            self.to = to
            self.precopyRounds = precopyRounds
            self.frozenSeconds = frozenSeconds
            self.totalSeconds = totalSeconds
            self.bytes = bytes
        }
    }
}
