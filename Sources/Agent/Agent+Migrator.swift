#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ClusterControl
import ClusterWire
import Jobs
import Logging
import Migration
import NIOCore
import NIOPosix

extension Agent {
    /// Moves jobs between this node and others with CRIU (Docs/migration.md): the source side
    /// (``migrate(_:to:)``) and the destination side (``receive(_:first:)``), speaking
    /// ``Migration/Message`` over one secure stream.
    struct Migrator: Sendable {
        let core: Core
        let jobs: Jobs.Supervisor
        let logger: Logger
        let criu = Migration.CRIU()
        /// Where image directories are written (tmpfs: images are memory).
        var workRoot = "/run/clusterd/migrations"
        /// Pre-copy stops after this many rounds, or when a round copies less than
        /// ``smallRound`` bytes, or when it copies no less than ``shrinkFactor`` of the last.
        var maxRounds = 5
        var smallRound: UInt64 = 8 << 20
        var shrinkFactor = 0.8
        /// Size of the raw frames a file travels in.
        static let chunk = 1 << 20

        /// What a finished migration measured, for `cluster migrate` and the benchmarks.
        struct Outcome: Sendable {
            var rounds: [UInt64] = []
            /// Final dump start → destination confirmed: the job ran nowhere.
            var frozenSeconds = 0.0
            /// The final dump alone (the source's freeze before the last transfer).
            var dumpSeconds = 0.0
            var totalSeconds = 0.0
            var bytesSent: UInt64 = 0
            /// Time spent sending those bytes: what the balancer's transfer-rate estimate uses
            /// (the whole move also runs criu on both sides).
            var sendingSeconds = 0.0
        }

        /// Why `record`'s job cannot leave this node, or nil: the trust model (jobs below
        /// `cluster.trust.minimumPeerUID` never leave). Ordinary users' jobs move: each has a
        /// mount namespace and /proc of its own, which CRIU needs (Jobs.MountNamespace).
        static func immovable(_ record: Jobs.Record, trust: Jobs.Trust) -> String? {
            if !trust.mayMigrate(owner: record.uid) {
                return "it runs as \(record.owner) (uid \(record.uid)), and jobs below uid \(trust.minimumPeerUID) stay on their node (cluster.trust.minimumPeerUID)"
            }
            return nil
        }

        // MARK: Source

        /// Moves running job `id` to `member`. On any failure before the destination confirms,
        /// the job is resumed here and the error thrown.
        func migrate(_ id: String, to member: Wire.MemberUpdate, precopy: Bool = true) async throws -> Outcome {
            let clock = ContinuousClock()
            let started = clock.now
            let (record, pid) = try await jobs.beginMigration(id)
            if let reason = Self.immovable(record, trust: core.settings.trust) {
                await jobs.endMigration(id)
                throw Failure("job \(id) cannot move: \(reason)")
            }
            let work = workRoot + "/\(id)-out"
            Migration.remove(work)
            guard Migration.makeDirectories(work) else {
                await jobs.endMigration(id)
                throw Failure("cannot create \(work)")
            }
            defer { Migration.remove(work) }
            var outcome = Outcome()
            var frozen = false
            // What the source was doing, for the error when the destination goes away.
            var step = "connecting"
            do {
                try await withStream(to: member) { stream in
                    // Offer, with this CPU's description for the destination to check.
                    step = "offering the job"
                    _ = try await runCRIU(criu.cpuinfoDump(directory: work), in: work, log: "cpuinfo-dump.log")
                    let cpuinfo = try Data(contentsOf: URL(fileURLWithPath: work + "/cpuinfo.img"))
                    let usage = await jobs.usage(id)
                    try await send(.offer(job: id, record: try JSONEncoder().encode(record), memoryKiB: usage.memoryKiB, cpuinfo: cpuinfo), on: stream)
                    switch try await receive(on: stream) {
                    case .accept: break
                    case .refuse(let reason): throw Failure("\(member.load.hostname) refused job \(id): \(reason)")
                    default: throw Failure("\(member.load.hostname) answered the offer out of turn")
                    }
                    // Pre-copy rounds while the job runs.
                    var round = 0
                    var last: UInt64 = .max
                    // The job's kept mounts, external to CRIU (Jobs.MountNamespace).
                    let mounts = Jobs.MountNamespace.dumpArguments(jobMountinfo: Agent.HostFacts.text("/proc/\(pid)/mountinfo") ?? "")
                    while precopy && round < maxRounds {
                        round += 1
                        step = "pre-copy round \(round)"
                        let directory = work + "/\(round)"
                        _ = Migration.makeDirectories(directory)
                        // A process or thread of the job that exits mid-round fails the round
                        // ("No such process"); the next attempt sees the tree as it is now.
                        try await retrying(directory) {
                            _ = try await runCRIU(
                                criu.preDump(pid: pid, directory: directory, previous: round > 1 ? "../\(round - 1)" : nil, mounts: mounts),
                                in: directory, log: "pre-dump.log")
                        }
                        let bytes = Migration.pageBytes(in: directory)
                        outcome.rounds.append(bytes)
                        let sendStart = clock.now
                        outcome.bytesSent += try await sendDirectory(directory, round: round, on: stream)
                        outcome.sendingSeconds += (clock.now - sendStart).seconds
                        if bytes < smallRound || Double(bytes) >= Double(last) * shrinkFactor { break }
                        last = bytes
                    }
                    // Freeze: the final dump leaves the tree stopped.
                    round += 1
                    let directory = work + "/\(round)"
                    _ = Migration.makeDirectories(directory)
                    let freeze = clock.now
                    frozen = true
                    step = "the final dump and transfer"
                    try await retrying(directory) {
                        _ = try await runCRIU(
                            criu.dump(pid: pid, directory: directory, previous: round > 1 ? "../\(round - 1)" : nil, mounts: mounts),
                            in: directory, log: "dump.log")
                    }
                    outcome.dumpSeconds = (clock.now - freeze).seconds
                    // Regular files the job holds open outside its directory travel too (the
                    // destination restores them at the same path), unless on NFS, which the
                    // destination sees itself.
                    var sendStart = clock.now
                    outcome.bytesSent += try await sendOpenFiles(of: pid, on: stream)
                    outcome.sendingSeconds += (clock.now - sendStart).seconds
                    sendStart = clock.now
                    outcome.bytesSent += try await sendDirectory(directory, round: round, on: stream)
                    outcome.sendingSeconds += (clock.now - sendStart).seconds
                    // The job's own directory, as it is now that the job is frozen.
                    sendStart = clock.now
                    outcome.bytesSent += try await sendDirectory(jobs.layout.directory(id), round: 0, on: stream)
                    outcome.sendingSeconds += (clock.now - sendStart).seconds
                    var moved = record
                    moved.currentNode = member.load.hostname
                    moved.migrations.append(.init(from: record.currentNode, to: member.load.hostname, at: UInt64(time(nil))))
                    step = "the restore"
                    try await send(.restore(round: round, record: try JSONEncoder().encode(moved)), on: stream)
                    switch try await receive(on: stream) {
                    case .restored:
                        await FaultPoint.sourceAfterRestored.pass()
                    case .failed(let reason):
                        throw Failure("restoring job \(id) on \(member.load.hostname) failed: \(reason)")
                    default:
                        throw Failure("\(member.load.hostname) answered the restore out of turn")
                    }
                    // The destination holds a stopped copy: ours goes, then theirs runs.
                    await jobs.finishMigration(id, movedTo: moved)
                    outcome.frozenSeconds = (clock.now - freeze).seconds
                    try await send(.commit, on: stream)
                    _ = try? await receive(on: stream)
                }
            } catch {
                if await jobs.isMigrating(id) {
                    if frozen, try await destinationRuns(id, member: member) {
                        // The confirmation was lost, but the destination runs the job.
                        await jobs.finishMigration(id, movedTo: nil)
                        logger.warning("job \(id): the confirmation from \(member.load.hostname) was lost, but it runs the job there")
                    } else {
                        await jobs.resume(id)
                        let reason = error is Failure ? "\(error)" : "lost the connection to \(member.load.hostname) during \(step) (\(error)): it died, or the network between the nodes failed"
                        logger.warning("job \(id) stays on this node: \(reason)")
                        throw Failure(reason)
                    }
                }
            }
            outcome.totalSeconds = (clock.now - started).seconds
            logger.info("job \(id) moved to \(member.load.hostname): \(outcome.rounds.count) pre-copy rounds, frozen \(outcome.frozenSeconds) s, total \(outcome.totalSeconds) s")
            return outcome
        }

        /// After losing the stream in the frozen phase: whether the destination runs the job.
        /// The destination decides: once it has restored the job it owns it, so this node
        /// resumes its stopped copy only when the destination says it does not run it, or when
        /// the destination stays unreachable and declared dead for ``orphanGrace`` (it died;
        /// a partition that long is the one case that can leave the job running twice).
        func destinationRuns(_ id: String, member: Wire.MemberUpdate) async throws -> Bool {
            let clock = ContinuousClock()
            var deadSince: ContinuousClock.Instant?
            while true {
                if let running = try? await withStream(to: member, { stream -> Bool in
                    try await send(.query(job: id), on: stream)
                    guard case .state(let running) = try await receive(on: stream) else { return false }
                    return running
                }) {
                    return running
                }
                if await core.memberStatus(member.node) == .dead {
                    let since = deadSince ?? clock.now
                    deadSince = since
                    if clock.now - since > orphanGrace { return false }
                } else {
                    deadSince = nil
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }

        /// How long an unreachable destination must stay dead before the source resumes a job
        /// whose migration it lost track of.
        var orphanGrace: Duration = .seconds(30)
    }
}
