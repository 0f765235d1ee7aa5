#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
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
        /// When pre-copy stops and how long a lost destination is waited for.
        var policy = Migration.Source.Policy()
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
        /// the job is resumed here and the error thrown. What to do at each step, and after each
        /// failure, is ``Migration/Source``'s to say; this runs CRIU and the stream for it.
        ///
        /// A migration, once begun, runs to its end even if the caller is cancelled (the agent
        /// shutting down, a `cluster migrate` interrupted): stopping between the final dump and
        /// the destination's answer would leave the job stopped on both nodes. The caller still
        /// waits for it: the task is not left behind.
        func migrate(_ id: String, to member: Wire.MemberUpdate, precopy: Bool = true) async throws -> Outcome {
            try await Task { try await move(id, to: member, precopy: precopy) }.value
        }

        private func move(_ id: String, to member: Wire.MemberUpdate, precopy: Bool) async throws -> Outcome {
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
            let destination = member.load.hostname
            var policy = self.policy
            if !precopy { policy.maxRounds = 0 }
            var machine = Migration.Source(job: id, destination: destination, policy: policy)
            var outcome = Outcome()
            var freeze = clock.now
            do {
                try await withStream(to: member) { stream in
                    // Offer, with this CPU's description for the destination to check.
                    _ = try await runCRIU(criu.cpuinfoDump(directory: work), in: work, log: "cpuinfo-dump.log")
                    let cpuinfo = try Data(contentsOf: URL(fileURLWithPath: work + "/cpuinfo.img"))
                    let usage = await jobs.usage(id)
                    try await send(.offer(job: id, record: try JSONEncoder().encode(record), memoryKiB: usage.memoryKiB, cpuinfo: cpuinfo), on: stream)
                    var step: Migration.Source.Step
                    switch try await receive(on: stream) {
                    case .accept: step = machine.accepted()
                    case .refuse(let reason): throw Failure("\(destination) refused job \(id): \(reason)")
                    default: throw Failure("\(destination) answered the offer out of turn")
                    }
                    // The job's kept mounts, external to CRIU (Jobs.MountNamespace).
                    let mounts = Jobs.MountNamespace.dumpArguments(jobMountinfo: Agent.HostFacts.text("/proc/\(pid)/mountinfo") ?? "")
                    // Pre-copy rounds while the job runs.
                    while case .preDump(let round, let parent) = step {
                        let directory = work + "/\(round)"
                        try await dumping(into: directory, machine) {
                            _ = try await runCRIU(
                                criu.preDump(pid: pid, directory: directory, previous: parent.map { "../\($0)" }, mounts: mounts),
                                in: directory, log: "pre-dump.log")
                        }
                        let bytes = Migration.pageBytes(in: directory)
                        let sendStart = clock.now
                        outcome.bytesSent += try await sendDirectory(directory, round: round, on: stream)
                        outcome.sendingSeconds += (clock.now - sendStart).seconds
                        step = machine.roundSent(bytes: bytes)
                    }
                    guard case .finalDump(let round, let parent) = step else { return }
                    // Freeze: the final dump leaves the tree stopped.
                    let directory = work + "/\(round)"
                    freeze = clock.now
                    try await dumping(into: directory, machine) {
                        _ = try await runCRIU(
                            criu.dump(pid: pid, directory: directory, previous: parent.map { "../\($0)" }, mounts: mounts),
                            in: directory, log: "dump.log")
                    }
                    outcome.dumpSeconds = (clock.now - freeze).seconds
                    // Regular files the job holds open outside its directory travel too (the
                    // destination restores them at the same path), unless on NFS, which the
                    // destination sees itself; then the final round, then the job's own
                    // directory as it is now that the job is frozen.
                    let sendStart = clock.now
                    outcome.bytesSent += try await sendOpenFiles(of: pid, on: stream)
                    outcome.bytesSent += try await sendDirectory(directory, round: round, on: stream)
                    outcome.bytesSent += try await sendDirectory(jobs.layout.directory(id), round: 0, on: stream)
                    outcome.sendingSeconds += (clock.now - sendStart).seconds
                    var moved = record
                    moved.currentNode = destination
                    moved.migrations.append(.init(from: record.currentNode, to: destination, at: UInt64(time(nil))))
                    try await send(.restore(round: machine.sendingRestore(), record: try JSONEncoder().encode(moved)), on: stream)
                    switch try await receive(on: stream) {
                    case .restored:
                        machine.restored()
                        await FaultPoint.sourceAfterRestored.pass()
                    case .failed(let reason):
                        machine.restoreFailedThere()
                        throw Failure("restoring job \(id) on \(destination) failed: \(reason)")
                    default:
                        throw Failure("\(destination) answered the restore out of turn")
                    }
                    // The destination holds a stopped copy: ours goes, then theirs runs.
                    await jobs.finishMigration(id, movedTo: moved)
                    outcome.frozenSeconds = (clock.now - freeze).seconds
                    machine.committed()
                    try await send(.commit, on: stream)
                    _ = try? await receive(on: stream)
                }
            } catch {
                let reason = error is Failure || error is Migration.CRIU.Failure
                    ? "\(error)"
                    : "lost the connection to \(destination) (\(error)): it died, or the network between the nodes failed"
                var resolution = machine.failed(reason)
                while case .ask(let after) = resolution {
                    try await Task.sleep(for: after)
                    resolution = machine.answered(await ask(member, about: id), at: clock.now)
                }
                switch resolution {
                case .drop:
                    // Dropped already when `restored` came; otherwise the answer was lost, but
                    // the destination runs the job.
                    if await jobs.isMigrating(id) {
                        await jobs.finishMigration(id, movedTo: nil)
                        logger.warning("job \(id): the confirmation from \(destination) was lost, but it runs the job there")
                    }
                case .resume(let reason):
                    await jobs.resume(id)
                    logger.warning("job \(id) stays on this node: \(reason)")
                    throw Failure(reason)
                case .ask:
                    break
                }
            }
            outcome.rounds = machine.rounds
            outcome.totalSeconds = (clock.now - started).seconds
            logger.info("job \(id) moved to \(destination): \(outcome.rounds.count) pre-copy rounds, frozen \(outcome.frozenSeconds) s, total \(outcome.totalSeconds) s")
            return outcome
        }

        /// One query to the destination, on a new stream, about job `id` after the migration
        /// stream was lost: its answer, or that it could not be reached.
        func ask(_ member: Wire.MemberUpdate, about id: String) async -> Migration.Source.QueryAnswer {
            let running = try? await withStream(to: member) { stream -> Bool in
                try await send(.query(job: id), on: stream)
                guard case .state(let running) = try await receive(on: stream) else { return false }
                return running
            }
            if let running { return running ? .running : .notRunning }
            return .unreachable(declaredDead: await core.memberStatus(member.node) == .dead)
        }
    }
}
