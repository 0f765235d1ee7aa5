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
import Synchronization

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

        static func milliseconds(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }

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
            /// Restore request sent → `restored`: the destination's restore, for the balancer's
            /// restore-rate estimate.
            var restoreSeconds = 0.0
            /// Post-copy: `commit` sent → the destination has every page (the job ran there
            /// meanwhile, pulling what it touched).
            var pullSeconds = 0.0
            /// Bytes the job wrote per second while pre-copy ran (each round copies what the job
            /// dirtied during the one before), or nil with fewer than two rounds.
            var dirtyRate: Double?
            /// Whether the move was a post-copy.
            var postcopy = false
            /// Why the method was chosen, when the agent chose it (``Control/MoveMethod/automatic``).
            var choice: String?
            /// The most page bytes one round held on this node's tmpfs (``Control/MigrationReport/stagedBytes``).
            var stagedBytes: UInt64 = 0

            /// What `cluster migrate` and `cluster drain` print.
            func report(job: String, from: String, to: String) -> Control.MigrationReport {
                Control.MigrationReport(
                    job: job, from: from, to: to, precopyRounds: rounds, frozenSeconds: frozenSeconds,
                    dumpSeconds: dumpSeconds, totalSeconds: totalSeconds, bytes: bytesSent,
                    sendingSeconds: sendingSeconds, restoreSeconds: restoreSeconds, postcopy: postcopy, pullSeconds: pullSeconds,
                    choice: choice, stagedBytes: stagedBytes)
            }
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
        ///
        /// `maximumFinalBytes`: for automatic moves, the most the final dump may copy with the
        /// job frozen; a job that writes faster than that stays (``Migration/Source/Policy/maximumFinalBytes``).
        /// `maximumFinalSeconds`: likewise as a freeze at the rate the move measures.
        ///
        /// `method`: pre-copy rounds first (the default), the final dump alone, or post-copy
        /// (Docs/migration.md).
        ///
        /// `automatic`: pre-copy or post-copy, by how fast the job writes (``choose(for:)``).
        func migrate(
            _ id: String, to member: Wire.MemberUpdate, method: Control.MoveMethod = .precopy, maximumFinalBytes: UInt64? = nil,
            maximumFinalSeconds: Double? = nil
        ) async throws -> Outcome {
            try await Task {
                var (method, choice) = (method, nil as String?)
                if method == .automatic { (method, choice) = await choose(for: id) }
                var outcome = try await move(id, to: member, method: method, maximumFinalBytes: maximumFinalBytes, maximumFinalSeconds: maximumFinalSeconds)
                outcome.choice = choice
                if !outcome.postcopy, outcome.bytesSent >= Self.linkSample, outcome.sendingSeconds >= 0.05 {
                    Self.linkRate.withLock { $0 = Double(outcome.bytesSent) / outcome.sendingSeconds }
                }
                return outcome
            }.value
        }

        /// The agents' stream's rate, bytes per second, as the last pre-copy move from this node
        /// measured it (bytes over the time spent sending them); nil before the first.
        static let linkRate = Mutex<Double?>(nil)
        /// The rate assumed before any move measured one (the balancer's default).
        static let assumedLinkRate = 100e6
        /// How long the job is watched writing before the method is chosen.
        static let choiceWindow: Duration = .milliseconds(500)
        /// A job whose final dump would keep it frozen longer than this moves by post-copy.
        static let postcopyAbove = 1.0

        /// How job `id` should move, and why: pre-copy, unless what it writes in
        /// ``choiceWindow`` (its soft-dirty bits) would take longer than ``postcopyAbove`` to
        /// send with the job frozen. Pre-copy's final dump copies what the job wrote during the
        /// last round, which lasts at least that long for any job worth watching: a job that
        /// writes that fast cannot converge, and post-copy keeps its freeze near a second
        /// (Docs/migration.md, "Choosing the method").
        func choose(for id: String) async -> (Control.MoveMethod, String) {
            let clock = ContinuousClock()
            let started = await jobs.startDirtyRateMeasurement(id, now: clock.now)
            try? await Task.sleep(for: Self.choiceWindow)
            // The balancer's own sample may have ended this measurement meanwhile: the rate it
            // stored then covers part of this window.
            let sampled = await jobs.sampleDirtyRate(id, now: clock.now)
            let rate: Double?
            if let sampled { rate = sampled } else { rate = await jobs.dirtyRate(id) }
            guard started, let rate else {
                return (.precopy, "pre-copy: how fast the job writes could not be measured")
            }
            let window = Self.choiceWindow.seconds
            return Self.method(written: rate * window, in: window, linkRate: Self.linkRate.withLock { $0 })
        }

        /// ``choose(for:)``'s rule: `written` bytes in `window` seconds, at `linkRate` (nil:
        /// none measured yet, ``assumedLinkRate``).
        static func method(written: Double, in window: Double, linkRate: Double?) -> (Control.MoveMethod, String) {
            let link = linkRate ?? Self.assumedLinkRate
            let frozen = written / link
            let what = "it wrote \(Int(written) >> 20) MiB in \(Self.milliseconds(window)) ms, \(Double(Int(frozen * 10)) / 10) s to send at \(Int(link / 1e6)) MB/s (\(linkRate == nil ? "assumed" : "measured"))"
            if frozen > Self.postcopyAbove && written >= Double(Self.postcopyAtLeast) {
                return (.postcopy, "post-copy: \(what); pre-copy would keep it frozen at least that long")
            }
            return (.precopy, "pre-copy: \(what)")
        }

        /// Below this a job moves by pre-copy however fast it writes: its final dump is short.
        static let postcopyAtLeast = 8 << 20
        /// A move measures the link only when it sent at least this much (a small move's time
        /// is mostly latency: one of a few MiB measured 3 MB/s on a 26 MB/s link).
        static let linkSample = 16 << 20

        private func move(
            _ id: String, to member: Wire.MemberUpdate, method: Control.MoveMethod, maximumFinalBytes: UInt64?, maximumFinalSeconds: Double?
        ) async throws -> Outcome {
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
            if method != .precopy { policy.maxRounds = 0 }
            policy.postcopy = method == .postcopy
            policy.maximumFinalBytes = maximumFinalBytes
            policy.maximumFinalSeconds = maximumFinalSeconds
            var machine = Migration.Source(job: id, destination: destination, policy: policy)
            var outcome = Outcome()
            outcome.postcopy = policy.postcopy
            var freeze = clock.now
            // A kill asked for during the hand-over, carried out where the job landed.
            var deferredKill: UInt32?
            // Post-copy: the criu run that holds the frozen job and serves its pages, and the
            // second stream that relays them.
            var lazyDump: PageServing?
            var pageStream: Task<RelayCount, any Error>?
            defer { pageStream?.cancel() }
            // The next round's final dump, started while this round travels (PrestartedCRIU).
            var prestarted: PrestartedCRIU?
            defer { prestarted?.abandon() }
            let committed = Agent.Flag()
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
                    var lastRoundSeconds: Double?
                    // Whether the last round's memory went to the destination's page server:
                    // the final dump's then does too (its parent's page maps are there only).
                    var pageServed = false
                    while case .preDump(let round, let parent) = step {
                        if let stop = await jobs.moveStop(id) { throw stop }
                        let roundStarted = clock.now
                        let directory = work + "/\(round)"
                        // Not the final dump after all: the criu started for it goes.
                        await prestarted?.cancel()
                        prestarted = nil
                        // The round's memory goes straight to the destination (its page
                        // server) as CRIU dumps it; only if it runs none is it staged here.
                        let served = usage.memoryKiB << 10 < Self.streamPagesAtLeast ? nil : try await preDumpToPageServer(
                            id, pid: pid, round: round, parent: parent, mounts: mounts, into: directory, machine, member: member, on: stream)
                        if served == nil {
                            try await dumping(into: directory, machine) {
                                _ = try await runCRIU(
                                    criu.preDump(pid: pid, directory: directory, previous: parent.map { "../\($0)" }, mounts: mounts),
                                    in: directory, log: "pre-dump.log")
                            }
                        }
                        let bytes = served?.bytes ?? Migration.pageBytes(in: directory)
                        if served == nil { outcome.stagedBytes = max(outcome.stagedBytes, bytes) }
                        if let served {
                            outcome.bytesSent += served.bytes
                            outcome.sendingSeconds += served.seconds
                        }
                        // This round may be the last: the final dump's criu starts now and
                        // waits, ready to freeze the job as soon as the round has arrived.
                        if !policy.postcopy {
                            await prestarted?.cancel()
                            let next = work + "/\(round + 1)"
                            Migration.remove(next)
                            _ = Migration.makeDirectories(next)
                            // Its memory goes where the round's went: the page server's criu
                            // end is its descriptor 3.
                            let socket = served == nil ? nil : try? PageSocket()
                            prestarted = try? PrestartedCRIU(
                                criu.dump(pid: pid, directory: next, previous: "../\(round)", mounts: mounts, pageServer: socket != nil),
                                directory: next, log: "dump.log", fifo: work + "/dump-\(round + 1).log.fifo", pageSocket: socket)
                        }
                        let sendStart = clock.now
                        outcome.bytesSent += try await sendDirectory(directory, round: round, on: stream, stoppable: id)
                        let roundSending = (clock.now - sendStart).seconds + (served?.seconds ?? 0)
                        outcome.sendingSeconds += (clock.now - sendStart).seconds
                        // What this round copied, the job wrote while the last one ran.
                        if let previous = lastRoundSeconds, previous > 0 {
                            outcome.dirtyRate = max(outcome.dirtyRate ?? 0, Double(bytes) / previous)
                        }
                        lastRoundSeconds = (clock.now - roundStarted).seconds
                        step = machine.roundSent(bytes: bytes, sendingSeconds: roundSending)
                        pageServed = served != nil
                    }
                    if case .giveUp(let reason) = step { throw Failure(reason) }
                    guard case .finalDump(let round, let parent) = step else { return }
                    // Freeze: the final dump leaves the tree stopped.
                    let directory = work + "/\(round)"
                    // The final dump's page server, asked for while the job still runs.
                    var finalServer = false
                    var finalPagesSeconds = 0.0
                    if pageServed, !policy.postcopy {
                        if let stop = await jobs.moveStop(id) { throw stop }
                        finalServer = try await askPageServer(id, round: round, parent: parent, member: member, on: stream)
                    }
                    // A cancel or kill that came during pre-copy stops the move here, unfrozen.
                    try await jobs.beginFreeze(id)
                    freeze = clock.now
                    if policy.postcopy {
                        try await dumping(into: directory, machine) {
                            lazyDump = try await startLazyDump(pid: pid, directory: directory, work: work, mounts: mounts)
                        }
                        if let run = lazyDump {
                            pageStream = Task {
                                try await withStream(to: member) { pages in
                                    try await send(.pages(job: id), on: pages)
                                    return try await Self.relay(pages, socket: run.socket) {
                                        if committed.isSet { await FaultPoint.sourcePulling.pass() }
                                    }
                                }
                            }
                        }
                    } else {
                        var early: PrestartedCRIU?
                        if let started = prestarted {
                            prestarted = nil
                            if started.directory == directory, parent == round - 1 {
                                early = started
                            } else {
                                await started.cancel()
                            }
                        }
                        if finalServer {
                            // Its memory goes to the page server: its parent's page maps are
                            // there. A dump that found a process gone asks for the round again.
                            var attempt = 1
                            while true {
                                if attempt > 1 || early == nil || early?.pageSocket == nil {
                                    await early?.cancel()
                                    early = nil
                                    Migration.remove(directory)
                                    _ = Migration.makeDirectories(directory)
                                }
                                if attempt > 1, !(try await askPageServer(id, round: round, parent: parent, member: member, on: stream)) {
                                    throw Failure("\(destination) runs no page server for the final dump of job \(id)")
                                }
                                do {
                                    let sent = try await relayDump(
                                        id, arguments: criu.dump(pid: pid, directory: directory, previous: parent.map { "../\($0)" }, mounts: mounts, pageServer: true),
                                        log: "dump.log", directory: directory, member: member, prestarted: early)
                                    early = nil
                                    outcome.bytesSent += sent.bytes
                                    finalPagesSeconds = sent.seconds
                                    break
                                } catch let failure as Migration.CRIU.Failure where machine.retriesDump(after: failure, attempt: attempt) {
                                    early = nil
                                    attempt += 1
                                    try await Task.sleep(for: .milliseconds(100))
                                }
                            }
                        } else {
                            // One started for a page server that now runs none would wait for it.
                            if early?.pageSocket != nil {
                                await early?.cancel()
                                early = nil
                            }
                            try await dumping(into: directory, machine, first: early.map { started in { try await started.run() } }) {
                                _ = try await runCRIU(
                                    criu.dump(pid: pid, directory: directory, previous: parent.map { "../\($0)" }, mounts: mounts),
                                    in: directory, log: "dump.log")
                            }
                        }
                    }
                    outcome.dumpSeconds = (clock.now - freeze).seconds
                    outcome.sendingSeconds += finalPagesSeconds
                    outcome.stagedBytes = max(outcome.stagedBytes, Migration.pageBytes(in: directory))
                    // Regular files the job holds open outside its directory travel too (the
                    // destination restores them at the same path), unless on NFS, which the
                    // destination sees itself; then the final round, then the job's own
                    // directory as it is now that the job is frozen.
                    let sendStart = clock.now
                    outcome.bytesSent += try await sendOpenFiles(of: pid, on: stream)
                    let openFilesSent = clock.now
                    outcome.bytesSent += try await sendDirectory(directory, round: round, on: stream)
                    let imagesSent = clock.now
                    outcome.bytesSent += try await sendDirectory(jobs.layout.directory(id), round: 0, on: stream)
                    outcome.sendingSeconds += (clock.now - sendStart).seconds
                    let finalSend = "\(Self.milliseconds((clock.now - sendStart).seconds)) ms (open files \(Self.milliseconds((openFilesSent - sendStart).seconds)) ms, images \(Self.milliseconds((imagesSent - openFilesSent).seconds)) ms, job files \(Self.milliseconds((clock.now - imagesSent).seconds)) ms)"
                    var moved = record
                    moved.currentNode = destination
                    moved.migrations.append(.init(from: record.currentNode, to: destination, at: UInt64(time(nil))))
                    // Killed while being dumped: nothing is handed over.
                    try await jobs.beginHandOver(id)
                    let movedData = try JSONEncoder().encode(moved)
                    let restoreRound = machine.sendingRestore()
                    try await send(policy.postcopy ? .restoreLazily(round: restoreRound, record: movedData) : .restore(round: restoreRound, record: movedData), on: stream)
                    let restoreStart = clock.now
                    let answer = try await receive(on: stream)
                    outcome.restoreSeconds = (clock.now - restoreStart).seconds
                    switch answer {
                    case .restored:
                        machine.restored()
                        await FaultPoint.sourceAfterRestored.pass()
                    case .failed(let reason):
                        machine.restoreFailedThere()
                        throw Failure("restoring job \(id) on \(destination) failed: \(reason)")
                    default:
                        throw Failure("\(destination) answered the restore out of turn")
                    }
                    if policy.holdsCopyAfterCommit {
                        // Theirs runs now while its memory fills in (post-copy: pulled from
                        // ours); ours stays frozen until the last page has arrived.
                        machine.committed()
                        try await send(.commit, on: stream)
                        committed.set()
                        outcome.frozenSeconds = (clock.now - freeze).seconds
                        logger.info("job \(id): frozen \(Self.milliseconds(outcome.frozenSeconds)) ms until it ran on \(destination): final dump \(Self.milliseconds(outcome.dumpSeconds)) ms, its files sent in \(finalSend), restored there in \(Self.milliseconds(outcome.restoreSeconds)) ms")
                        let pullStart = clock.now
                        switch try await receive(on: stream) {
                        case .done:
                            machine.pagesDelivered()
                        case .failed(let reason):
                            machine.pullFailedThere()
                            throw Failure("job \(id) could not get all its memory on \(destination): \(reason)")
                        default:
                            throw Failure("\(destination) answered the pages out of turn")
                        }
                        outcome.pullSeconds = (clock.now - pullStart).seconds
                        // Every page is there: our copy goes first, so that nothing criu does
                        // on its way out can resume it; criu then ends (the daemon told it so).
                        deferredKill = await jobs.finishMigration(id, movedTo: moved)
                        if let run = lazyDump {
                            let exit = await run.end(within: .seconds(30))
                            if exit != .exited(0) {
                                logger.warning("job \(id): criu dump ended with \(exit.map { "\($0)" } ?? "no exit within 30 s") after serving every page")
                            }
                            if let sent = await Self.value(of: pageStream, within: .seconds(5))?.sent { outcome.bytesSent += sent }
                        }
                    } else {
                        // The destination holds a stopped copy: ours goes, then theirs runs.
                        deferredKill = await jobs.finishMigration(id, movedTo: moved)
                        outcome.frozenSeconds = (clock.now - freeze).seconds
                        machine.committed()
                        try await send(.commit, on: stream)
                        _ = try? await receive(on: stream)
                    }
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
                // Post-copy: criu sees its connection end only now that the job's fate is known.
                // Ended early, it resumes the frozen copy itself, so a copy to be dropped is
                // killed before.
                if let run = lazyDump {
                    if case .drop = resolution, await jobs.isMigrating(id) {
                        deferredKill = await jobs.finishMigration(id, movedTo: nil)
                        logger.warning("job \(id): the confirmation from \(destination) was lost, but it runs the job there")
                    }
                    let exit = await run.end(within: .seconds(30))
                    if exit != .exited(0) { logger.info("job \(id): criu dump ended with \(exit.map { "\($0)" } ?? "no exit within 30 s")") }
                }
                switch resolution {
                case .drop:
                    // Dropped already when `restored` came; otherwise the answer was lost, but
                    // the destination runs the job.
                    if await jobs.isMigrating(id) {
                        deferredKill = await jobs.finishMigration(id, movedTo: nil)
                        logger.warning("job \(id): the confirmation from \(destination) was lost, but it runs the job there")
                    }
                case .resume(let reason):
                    await jobs.resume(id)
                    // What pre-copy saw of the job's writing tells the balancer not to try again soon.
                    if let rate = outcome.dirtyRate { await jobs.noteDirtyRate(id, rate) }
                    logger.warning("job \(id) stays on this node: \(reason)")
                    throw Failure(reason)
                case .ask:
                    break
                }
            }
            if deferredKill != nil { await killThere(id, record: record, member: member) }
            outcome.rounds = machine.rounds
            outcome.totalSeconds = (clock.now - started).seconds
            logger.info("job \(id) moved to \(destination): \(outcome.rounds.count) pre-copy rounds, frozen \(outcome.frozenSeconds) s, total \(outcome.totalSeconds) s")
            return outcome
        }

        /// Pre-dump round `round` of job `id` (init `pid`) with its memory sent as CRIU dumps it,
        /// to a page server the destination runs for the round (``Migration/Message/pageServer(round:parent:)``)
        /// over a page stream: nothing of the memory is staged on this node, and the stream's
        /// back-pressure paces criu. `directory` gets the round's other images. Returns the bytes
        /// the stream carried and the seconds the round took, or nil if the destination runs no
        /// page server (the round is then dumped here). A dump that found a process gone is
        /// tried again, as ``dumping(into:_:first:_:)`` does.
        func preDumpToPageServer(
            _ id: String, pid: Int32, round: Int, parent: Int?, mounts: [String], into directory: String, _ machine: Migration.Source,
            member: Wire.MemberUpdate, on stream: Agent.SecureStream
        ) async throws -> (bytes: UInt64, seconds: Double)? {
            var attempt = 1
            while true {
                if let stop = await jobs.moveStop(id) { throw stop }
                guard try await askPageServer(id, round: round, parent: parent, member: member, on: stream) else { return nil }
                Migration.remove(directory)
                _ = Migration.makeDirectories(directory)
                do {
                    return try await relayDump(
                        id, arguments: criu.preDump(pid: pid, directory: directory, previous: parent.map { "../\($0)" }, mounts: mounts, pageServer: true),
                        log: "pre-dump.log", directory: directory, member: member)
                } catch let failure as Migration.CRIU.Failure where machine.retriesDump(after: failure, attempt: attempt) {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }

        /// A job smaller than this is staged on the source round by round, as before the page
        /// server: it costs less memory than the bound beside the job (64 MiB), and a page server
        /// and a page stream per round cost a small move a few hundred milliseconds under TCG.
        static let streamPagesAtLeast: UInt64 = 16 << 20

        /// Asks the destination for a page server for round `round` on top of round `parent`:
        /// whether it runs one now.
        func askPageServer(_ id: String, round: Int, parent: Int?, member: Wire.MemberUpdate, on stream: Agent.SecureStream) async throws -> Bool {
            try await send(.pageServer(round: round, parent: parent), on: stream)
            switch try await receive(on: stream) {
            case .accept:
                return true
            case .refuse(let reason):
                logger.notice("job \(id): round \(round) is staged here: \(reason)")
                return false
            default:
                throw Failure("\(member.load.hostname) answered the page server request out of turn")
            }
        }

        /// Runs one dump whose memory goes to the destination's page server, which was asked for
        /// and waits: `prestarted` if it holds a page socket (``PrestartedCRIU``), else a new
        /// criu run of `arguments` (whose log is `log` in `directory`), its pages relayed over a
        /// new page stream. Returns the bytes the stream carried and the seconds it took; throws
        /// criu's failure (the round may be asked for and tried again) or the stream's.
        func relayDump(
            _ id: String, arguments: [String], log: String, directory: String, member: Wire.MemberUpdate, prestarted: PrestartedCRIU? = nil
        ) async throws -> (bytes: UInt64, seconds: Double) {
            let started = ContinuousClock.now
            let socket: PageSocket
            let criuEnded: @Sendable () async throws -> Void
            if let prestarted, let held = prestarted.pageSocket {
                socket = held
                criuEnded = { try await prestarted.run() }
            } else {
                await prestarted?.cancel()
                socket = try PageSocket()
                let run = try PageServing(arguments, socket: socket, directory: directory)
                let step = arguments.count > 1 ? arguments[1] : "dump"
                criuEnded = {
                    let exit = await run.exited()
                    guard exit == .exited(0) else {
                        let text = (try? String(contentsOfFile: directory + "/" + log, encoding: .utf8)) ?? ""
                        throw Migration.CRIU.Failure(step: step, exit: "\(exit)", log: text)
                    }
                }
            }
            let relay = Task {
                try await withStream(to: member) { pages in
                    try await send(.pages(job: id), on: pages)
                    return try await Self.relay(pages, socket: socket)
                }
            }
            // A stream that fails first ends criu's connection, so that criu fails too rather
            // than wait for a reader.
            let watcher = Task {
                if case .failure = await relay.result { socket.release() }
            }
            var failure: (any Error)?
            do { try await criuEnded() } catch { failure = error }
            // criu closed its end; the stream ends once the page server has ended its own.
            let count = await Self.value(of: relay, within: .seconds(60))
            socket.release()
            relay.cancel()
            watcher.cancel()
            if let failure { throw failure }
            guard let count else {
                let reason = if case .failure(let error) = await relay.result { "\(error)" } else { "it did not end within 60 s of the dump" }
                throw Failure("the page stream to \(member.load.hostname) failed: \(reason)")
            }
            return (count.sent, (ContinuousClock.now - started).seconds)
        }

        /// Carries out a kill that was asked for while job `id` was handed over to `member`,
        /// which runs it now. It is asked as the job's owner: the kill was authorized here.
        func killThere(_ id: String, record: Jobs.Record, member: Wire.MemberUpdate) async {
            let client = PeerClient(keys: core.keys, me: core.settings.nodeID)
            for attempt in 1...5 {
                do {
                    let answer = try await client.ask(member, PeerRequest(request: .kill(job: id), uid: record.uid, gid: record.gid))
                    if let error = answer.error {
                        logger.warning("job \(id) was to be killed on \(member.load.hostname) after its hand-over: \(error)")
                        return
                    }
                    logger.info("job \(id) killed on \(member.load.hostname), where it landed: the kill was asked for during its hand-over")
                    return
                } catch {
                    if attempt == 5 {
                        logger.error("job \(id) was to be killed on \(member.load.hostname) after its hand-over, but that failed: \(error); `cluster kill \(id)` again")
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
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
