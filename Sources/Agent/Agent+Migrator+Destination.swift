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

extension Agent.Migrator {
    // MARK: Destination

    /// Answers a migration stream whose first message was `first`. Everything in it comes from
    /// the network: the job id, the record and its uid, every file's round, name, size and
    /// link are checked (``Migration/Destination``, ``Migration/Intake``, ``Jobs/Trust``) before
    /// they touch the disk, and the restored tree's credentials before it runs
    /// (Docs/security.md). What to do with each message, and with the job when the source goes
    /// away, is ``Migration/Destination``'s to say; this does the I/O.
    func receive(_ stream: Agent.SecureStream, first: Migration.Message, from peer: Wire.NodeID) async throws {
        if case .query(let id) = first {
            guard Jobs.Layout.isJobID(id) else { throw Agent.Failure("a query for a malformed job id") }
            // Post-copy still pulling: which copy lives is not settled; no answer yet (the
            // source asks again).
            guard !(await jobs.isPulling(id)) else { throw Agent.Failure("job \(id) is still arriving") }
            try await send(.state(running: await jobs.isRunningHere(id)), on: stream)
            return
        }
        if case .pages(let id) = first {
            try await receivePages(stream, job: id, from: peer)
            return
        }
        guard case .offer(let id, let recordData, let memoryKiB, let cpuinfo) = first else { throw Agent.Failure("a migration must begin with an offer") }
        let trust = core.settings.trust
        let node = Migration.Destination.Node(hostname: core.settings.hostname, trust: trust, availableBytes: Self.availableMemoryBytes())
        let runsHere = Jobs.Layout.isJobID(id) ? await jobs.isRunningHere(id) : false
        var machine: Migration.Destination
        switch Migration.Destination.consider(job: id, record: recordData, memoryKiB: memoryKiB, node: node, localGroups: Jobs.Trust.localGroups(of:), runsHere: runsHere) {
        case .success(let accepted):
            machine = accepted
        case .failure(let refusal):
            if refusal.byTrust { logger.notice("refused job \(id) from \(peer): \(refusal)") }
            try await send(.refuse(refusal.description), on: stream)
            return
        }
        let work = workRoot + "/\(id)-in"
        Migration.remove(work)
        guard Migration.makeDirectories(work) else {
            try await send(.refuse("cannot create \(work)"), on: stream)
            return
        }
        defer { Migration.remove(work) }
        if let problem = await Agent.CRIUCheck.shared.problem(criu: criu, work: work, run: runCRIU) {
            try await send(.refuse("CRIU cannot restore on this node: \(problem)"), on: stream)
            return
        }
        guard cpuinfo.count <= 1 << 20 else {
            try await send(.refuse("the CPU description is larger than 1 MiB"), on: stream)
            return
        }
        try cpuinfo.write(to: URL(fileURLWithPath: work + "/cpuinfo.img"))
        do {
            _ = try await runCRIU(criu.cpuinfoCheck(directory: work), in: work, log: "cpuinfo-check.log")
        } catch {
            try await send(.refuse("this CPU cannot run what the source's CPU dumped: \(error)"), on: stream)
            return
        }
        try await send(.accept, on: stream)
        // Accepted: image chunks come in frames of up to 1 MiB, and pre-dump rounds of a large
        // job take longer under TCG (about 30 s per GiB): the silence allowed grows with the
        // offered size, within a cap (the size is the peer's word).
        stream.maxPayload = Wire.Stream.maxPayload
        if let deadline = stream.frameDeadline {
            let gibibytes = Int64(min(memoryKiB >> 20, 16))
            stream.frameDeadline = (deadline.channel, .seconds(120 + 120 * gibibytes))
        }
        let offered = machine.record
        var receivedPages = false
        // Post-copy: the lazy-pages daemon, from the restore until the last page.
        var lazyPages: PageServing?
        var pageSlot: PageSlot?
        // A lazy restore from the images here: the daemon's page server.
        var localServer: LocalPageServer?
        var lazyRound = 1
        // The final dump's daemon, started as soon as its process tree is here, while the rest
        // of the images still arrive; taken by the restore of that round.
        var early: (round: Int, starting: StartingLazyPages)?
        func lazyPagesDaemon(round: Int) async throws -> PageServing {
            if let (started, starting) = early {
                early = nil
                if started == round {
                    do {
                        return try await ready(starting)
                    } catch {
                        logger.notice("job \(id): the lazy-pages daemon started early failed (\(error)); starting it again")
                    }
                } else {
                    starting.abandon()
                }
            }
            return try await startLazyPages(directory: work + "/\(round)")
        }
        // The next round's `criu restore`, started while the source dumps it and held at its
        // start (PrestartedCRIU); the restore of that round takes it if its arguments hold.
        var prestarted: (round: Int, mounts: [String], run: PrestartedCRIU)?
        func prestartRestore(round: Int) async {
            await prestarted?.run.cancel()
            prestarted = nil
            guard round <= Migration.Intake.maxRound else { return }
            let directory = work + "/\(round)"
            guard Migration.makeDirectories(directory) else { return }
            let mounts = Self.restoreMounts(work: work)
            prestarted = try? (round, mounts, PrestartedCRIU(
                criu.restore(directory: directory, pidFile: work + "/restored.pid", mounts: mounts, lazy: true), directory: directory, log: "restore.log",
                fifo: work + "/restore-\(round).log.fifo"))
        }
        // A pre-dump round's page server, from `servePages` until the source's next message.
        var serving: (round: Int, run: PageServing, slot: PageSlot)?
        defer {
            if let serving {
                if !serving.run.hasEnded { _ = kill(serving.run.pid, SIGKILL) }
                serving.run.socket.release()
            }
            prestarted?.run.abandon()
            early?.starting.abandon()
            if let lazyPages {
                // Not once it has exited: its pid may be someone else's by now.
                if !lazyPages.hasEnded { _ = kill(lazyPages.pid, SIGKILL) }
                lazyPages.socket.release()
            }
            PageSlot.unregister(id)
        }
        await prestartRestore(round: 1)
        do {
            while !machine.isFinished {
                let message = try await receive(on: stream)
                let action: Migration.Destination.Action
                do {
                    // The source sends on once its page stream has ended: the round's pages
                    // are here, or were removed if its page server failed.
                    if let (round, run, slot) = serving {
                        serving = nil
                        PageSlot.unregister(id)
                        try machine.pagesServed(round: round, bytes: await endPageServer(run, slot: slot, directory: work + "/\(round)", job: id))
                    }
                    action = try machine.received(message)
                } catch {
                    logger.notice("job \(id) from \(peer): \(error)")
                    // Nothing is kept here: the source may resume its copy at once.
                    if !machine.holdsJob { try? await send(.failed(error.description), on: stream) }
                    throw Agent.Failure(error.description)
                }
                switch action {
                case .write(let incoming):
                    if !receivedPages, incoming.contains(where: { if case .image(1, _) = $0.placement { true } else { false } }) {
                        receivedPages = true
                        await Agent.FaultPoint.destinationReceiving.pass()
                    }
                    try await receiveFiles(incoming, job: offered, work: work, on: stream) { file in
                        // The final dump's process tree is here: its lazy-pages daemon starts
                        // while the rest of the images arrive.
                        guard early == nil, case .image(let round, let name) = file.placement,
                              name == "inventory.img" || name == "pstree.img" || name.hasPrefix("ids-"),
                              Migration.Images.holdsProcessTree(work + "/\(round)")
                        else { return }
                        do {
                            early = (round, try spawnLazyPages(directory: work + "/\(round)"))
                        } catch {
                            logger.notice("job \(id): cannot start the lazy-pages daemon early: \(error)")
                        }
                    }
                    // A pre-dump round is in (no process tree): the next may be the final dump.
                    if early == nil, case .image(let round, _)? = incoming.last?.placement, prestarted?.round != round + 1 {
                        await prestartRestore(round: round + 1)
                    }
                case .restore(let round, let record, let lazy):
                    // Post-copy: the daemon, and the slot the source's page stream relays into,
                    // before the restore, which may touch memory that is still at the source.
                    var watcher: Task<Void, Never>?
                    let asked = ContinuousClock.now
                    if lazy {
                        let daemon: PageServing
                        do {
                            daemon = try await lazyPagesDaemon(round: round)
                        } catch {
                            machine.restoreFailed()
                            Migration.remove(jobs.layout.directory(id))
                            try await send(.failed("\(error)"), on: stream)
                            continue
                        }
                        let slot = PageSlot(socket: daemon.socket, peer: peer)
                        slot.register(id)
                        (lazyPages, pageSlot, lazyRound) = (daemon, slot, round)
                        // A page stream that fails during the restore: the daemon goes, so the
                        // restore fails instead of waiting for pages that will not come.
                        watcher = Self.killing(daemon) { slot.failure != nil }
                    } else if let version = await Agent.CRIUCheck.shared.version(criu: criu, work: work),
                              let local = prepareLocalPages(directory: work + "/\(round)", job: id) {
                        // Pre-copy: the pages are here already; the job runs before they are
                        // all in place (Docs/migration.md, "Lazy restore from the destination's
                        // images"). If the daemon cannot start, the restore is the ordinary one.
                        let planned = ContinuousClock.now
                        do {
                            let daemon = try await lazyPagesDaemon(round: round)
                            let started = ContinuousClock.now
                            let duplicate = fcntl(daemon.socket.ours, F_DUPFD_CLOEXEC, 10)
                            guard duplicate >= 0 else {
                                _ = kill(daemon.pid, SIGKILL)
                                daemon.socket.release()
                                throw Agent.Failure("cannot duplicate the lazy-pages daemon's socket")
                            }
                            lazyPages = daemon
                            try local.writePagemaps()
                            let server = LocalPageServer(socket: duplicate, pages: local, requestSize: Migration.Images.PageRequest.size(criu: version))
                            (localServer, lazyRound) = (server, round)
                            machine.restoresFromImages()
                            let milliseconds = { (span: Duration) in Int((span.seconds * 1000).rounded()) }
                            logger.info("job \(id): restoring with \(local.lazyPages) of its pages left to fill in while it runs (planned in \(milliseconds(planned - asked)) ms, lazy-pages daemon ready in \(milliseconds(started - planned)) ms)")
                            // A server that failed answers no more: the restore fails rather
                            // than wait for a page.
                            watcher = Self.killing(daemon) { server.failure != nil }
                        } catch {
                            logger.notice("job \(id): restoring every page before it runs (\(error))")
                            if lazyPages != nil {
                                // The page maps may be half rewritten: no ordinary restore now.
                                machine.restoreFailed()
                                Migration.remove(jobs.layout.directory(id))
                                try await send(.failed("preparing the lazy restore: \(error)"), on: stream)
                                continue
                            }
                        }
                    }
                    // An ordinary restore: the daemon started early is not needed.
                    early?.starting.abandon()
                    early = nil
                    let prepared = ContinuousClock.now
                    // The criu started for this round, if it was started as this restore needs.
                    var started: (mounts: [String], run: PrestartedCRIU)?
                    if let waiting = prestarted {
                        prestarted = nil
                        if waiting.round == round, lazy || machine.fromImages {
                            started = (waiting.mounts, waiting.run)
                        } else {
                            await waiting.run.cancel()
                        }
                    }
                    let restored = await restore(
                        record, from: work, round: round, trust: trust, localGroups: machine.localGroups, peer: peer, lazy: lazy || machine.fromImages,
                        prestarted: started)
                    watcher?.cancel()
                    switch restored {
                    case .success(let restored):
                        let pid = restored.pid
                        machine.restoreSucceeded(pid: pid)
                        // The answer first: the job is adopted while it travels (`commit` is
                        // read only after), and adopted even if the answer could not go.
                        var unanswered: (any Error)?
                        do { try await send(.restored(pid: pid), on: stream) } catch { unanswered = error }
                        await jobs.adoptRestored(record, pid: pid)
                        if let unanswered { throw unanswered }
                        let milliseconds = { (span: Duration) in Int((span.seconds * 1000).rounded()) }
                        let done = ContinuousClock.now
                        let rest = (done - prepared) - restored.criu - restored.checks
                        logger.info("job \(id): restored\(lazy ? " for post-copy" : machine.fromImages ? " lazily" : "") in \(milliseconds(done - asked)) ms (\(milliseconds(prepared - asked)) ms preparing, \(milliseconds(restored.criu)) ms criu restore, \(milliseconds(restored.checks)) ms checks, \(milliseconds(rest)) ms mounts, adoption and answer)")
                    case .failure(let failure):
                        machine.restoreFailed()
                        Migration.remove(jobs.layout.directory(id))
                        try await send(.failed(failure.description), on: stream)
                    }
                case .run(let pid):
                    if let pages = lazyPages, let slot = pageSlot {
                        await jobs.setPulling(id, true)
                        await jobs.continueRestored(id, pid: pid)
                        try await pull(id, pid: pid, pages: pages, slot: slot, directory: work + "/\(lazyRound)", machine: &machine, on: stream)
                        lazyPages = nil
                        await jobs.setPulling(id, false)
                    } else if let daemon = lazyPages, let server = localServer {
                        await jobs.continueRestored(id, pid: pid)
                        if let failure = await fillIn(id, pid: pid, daemon: daemon, server: server, directory: work + "/\(lazyRound)", machine: &machine) {
                            try? await send(.failed("filling in its memory failed on \(core.settings.hostname): \(failure)"), on: stream)
                        } else {
                            lazyPages = nil
                            try? await send(.done, on: stream)
                        }
                    } else {
                        await jobs.continueRestored(id, pid: pid)
                        try? await send(.done, on: stream)
                    }
                case .discard(let pid):
                    if let pid { await jobs.discardRestored(id, pid: pid) }
                    Migration.remove(jobs.layout.directory(id))
                case .servePages(let round, let parent, let budget):
                    let directory = work + "/\(round)"
                    do {
                        guard Migration.makeDirectories(directory) else { throw Agent.Failure("cannot create \(directory)") }
                        Self.removePageImages(in: directory)
                        let run = try PageServing(criu.pageServer(directory: directory, previous: parent.map { "../\($0)" }), socket: PageSocket(), directory: directory)
                        let slot = PageSlot(socket: run.socket, peer: peer, limit: budget)
                        slot.register(id)
                        serving = (round, run, slot)
                    } catch {
                        logger.notice("job \(id): no page server for round \(round): \(error)")
                        try? machine.pagesServed(round: round, bytes: 0)
                        try await send(.refuse("cannot start CRIU's page server on \(core.settings.hostname): \(error)"), on: stream)
                        continue
                    }
                    try await send(.accept, on: stream)
                }
            }
        } catch {
            // Lost the source, or it broke the protocol. Restored and waiting: the source saw
            // `restored` and dropped its copy, or it will ask (query) and learn that we run it.
            switch machine.sourceLost() {
            case .run(let pid):
                logger.warning("job \(id): lost the source after restoring; running it here")
                await jobs.continueRestored(id, pid: pid)
                if let daemon = lazyPages, let server = localServer, machine.fromImages {
                    // Its pages are all here: they go on filling in (the source's query waits).
                    if await fillIn(id, pid: pid, daemon: daemon, server: server, directory: work + "/\(lazyRound)", machine: &machine) == nil {
                        lazyPages = nil
                    }
                }
            case .kill(let pid):
                // Post-copy: memory this copy lacks was only at the source. Killed before the
                // lazy-pages daemon sees its connection end (its pages would read as zeros).
                logger.warning("job \(id): lost the source while its memory was still arriving; the copy here is killed")
                await discardPulled(id, pid: pid)
            case .nothing:
                Migration.remove(jobs.layout.directory(id))
            }
            await jobs.setPulling(id, false)
            throw error
        }
    }

    /// A pre-dump round's page server, once the source has sent on: the bytes of the page
    /// images it wrote if it ended well, that is, after the dump's final `close` and its own
    /// answer, which the source waited for. Otherwise it is ended, the round's page images are
    /// removed (the source may try the round again, or its restore fails for want of them), and
    /// the answer is 0.
    ///
    /// The page stream's own end is not waited for: the source sends on as soon as its side of
    /// the stream has ended, and this side's relay may still be closing then. Taking that for a
    /// failure removed a good round's pages in a 1 GiB move, and the final dump's page server
    /// then found holes its parent did not have.
    func endPageServer(_ run: PageServing, slot: PageSlot, directory: String, job id: String) async -> UInt64 {
        let exit = await run.end(within: slot.failure == nil ? .seconds(30) : .zero)
        if exit == .exited(0) { return Self.pageImageBytes(in: directory) }
        let log = (try? String(contentsOfFile: directory + "/page-server.log", encoding: .utf8)) ?? ""
        logger.notice("job \(id): the page server of \(directory) ended with \(exit.map { "\($0)" } ?? "no exit (killed)"), its stream \(slot.failure ?? "open or ended well"): \(Migration.CRIU.Failure(step: "page-server", exit: "", log: log).excerpt)")
        Self.removePageImages(in: directory)
        return 0
    }

    /// What the page maps and pages in `directory` hold, in bytes.
    static func pageImageBytes(in directory: String) -> UInt64 {
        Migration.entries(of: directory).filter { Self.isPageImage($0.path) }.reduce(0) { $0 + $1.size }
    }

    static func isPageImage(_ name: String) -> Bool {
        (name.hasPrefix("pagemap-") || name.hasPrefix("pages-")) && name.hasSuffix(".img")
    }

    /// Removes the page maps and pages a page server wrote into `directory`.
    static func removePageImages(in directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where isPageImage(name) {
            unlink(directory + "/" + name)
        }
    }

    /// During a lazy restore: kills the lazy-pages daemon as soon as `failed` says its pages
    /// will not come (the restore then fails and kills what it made), until cancelled.
    static func killing(_ daemon: PageServing, when failed: @escaping @Sendable () -> Bool) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                if failed() {
                    _ = kill(daemon.pid, SIGKILL)
                    return
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Restores round `round` from `work` as `record`'s job and checks the tree while it is
    /// still stopped (--leave-stopped): its pid if it is who the record says, else why not
    /// (the tree is killed).
    func restore(
        _ record: Jobs.Record, from work: String, round: Int, trust: Jobs.Trust, localGroups: [UInt32]?, peer: Wire.NodeID, lazy: Bool = false,
        prestarted: (mounts: [String], run: PrestartedCRIU)? = nil
    ) async -> Result<Restored, Agent.Failure> {
        let id = record.id
        let directory = work + "/\(round)"
        let pidFile = work + "/restored.pid"
        // A job with a mount namespace of its own (Jobs.MountNamespace) is restored into a new
        // one whose root is this node's: CRIU's --root is a bind mount of `/`, detached again
        // once the restore is done.
        let rootBind = work + "/root"
        var mounts: [String] = []
        if Self.imagesHoldAMountNamespace(directory) {
            guard mkdir(rootBind, 0o700) == 0 || errno == EEXIST, mount("/", rootBind, nil, UInt(MS_BIND), nil) == 0 else {
                prestarted?.run.abandon()
                return .failure(Agent.Failure("cannot bind / for the job's mount namespace: \(String(cString: strerror(errno)))"))
            }
            mounts = Self.restoreMounts(work: work)
        }
        let criuStarted = ContinuousClock.now
        do {
            defer { if !mounts.isEmpty { _ = umount2(rootBind, Int32(MNT_DETACH)) } }
            // A criu started ahead with these very arguments goes on; any other is not used.
            if let prestarted, prestarted.mounts == mounts, lazy {
                try await prestarted.run.run()
            } else {
                await prestarted?.run.cancel()
                _ = try await runCRIU(criu.restore(directory: directory, pidFile: pidFile, mounts: mounts, lazy: lazy), in: directory, log: "restore.log")
            }
        } catch {
            return .failure(Agent.Failure("\(error)"))
        }
        let criuEnded = ContinuousClock.now
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.filter { $0.isNumber }) else {
            return .failure(Agent.Failure("criu restore wrote no pid"))
        }
        if let problem = Self.credentialProblem(
            restored: pid, uid: record.uid, gid: record.gid, allowedGroups: trust.peerGroups(localGroups ?? [], gid: record.gid),
            jobFiles: [jobs.layout.stdout(id), jobs.layout.stderr(id)]) {
            _ = kill(pid, SIGKILL)
            logger.warning("job \(id) from \(peer): restored tree killed: \(problem)")
            return .failure(Agent.Failure("the restored job was killed: \(problem)"))
        }
        return .success(Restored(pid: pid, criu: criuEnded - criuStarted, checks: .now - criuEnded))
    }

    /// The arguments that restore a job's own mount namespace (``Jobs/MountNamespace``) in
    /// a new one whose root is this node's, bound at `work`/root.
    static func restoreMounts(work: String) -> [String] {
        Jobs.MountNamespace.restoreArguments(root: work + "/root", host: Jobs.MountNamespace.parse(Jobs.ProcFiles.read("/proc/self/mountinfo") ?? ""))
    }

    /// A restored tree that passed its checks: its init's pid, and how long criu and the checks
    /// took (the journal's account of the down time).
    struct Restored {
        let pid: Int32
        let criu: Duration
        let checks: Duration
    }

    /// Why the restored tree under `pid` may not run as `uid`:`gid`, or nil: it must be in a
    /// PID namespace of its own (every job is), and each of its processes must hold exactly
    /// that identity, no other groups than the user's, no capability, and no scheduling class,
    /// nice value, resource limit or OOM adjustment beyond a job started here (``Jobs/Limits``).
    static func credentialProblem(restored pid: Int32, uid: UInt32, gid: UInt32, allowedGroups: [UInt32], jobFiles: Set<String> = []) -> String? {
        guard let namespace = Jobs.Usage.pidNamespace(of: pid), namespace != Jobs.Usage.pidNamespace(of: getpid()) else {
            return "the restored process is not in a PID namespace of its own"
        }
        let members = Jobs.Usage.processes(sharingNamespaceOf: pid)
        guard !members.isEmpty else { return "the restored tree has no process" }
        if Jobs.ProcFiles.link("/proc/\(pid)/ns/mnt") != Jobs.ProcFiles.link("/proc/self/ns/mnt") {
            guard let restored = Jobs.ProcFiles.read("/proc/\(pid)/mountinfo"), let host = Jobs.ProcFiles.read("/proc/self/mountinfo") else {
                return "cannot read the restored job's mounts"
            }
            if let problem = Jobs.MountNamespace.problem(restored: Jobs.MountNamespace.parse(restored), host: Jobs.MountNamespace.parse(host)) {
                return problem
            }
        }
        // What CRIU restores besides credentials (scheduling, limits, OOM adjustment): nothing a
        // job started here would not have. Root's jobs (only where the profile allows them) may.
        let own = uid == 0 ? nil : Jobs.Limits.own()
        if uid != 0 && own == nil { return "cannot read this agent's own resource limits to compare" }
        // A zombie runs nothing again and holds no file, memory or namespace: CRIU restores one
        // (a child that had just exited when the job froze) only so its parent can reap it, as
        // criu's own helper, with criu's credentials and limits, and with no namespace links left
        // to read. The tree is stopped, so none becomes one or stops being one while this looks.
        for member in members where !Jobs.Limits.isZombie(pid: member) {
            // Files CRIU reopened as root: only what the user could open (not for root's jobs).
            if uid != 0, let problem = Jobs.OpenFiles.problem(pid: member, uid: uid, gid: gid, groups: allowedGroups, jobFiles: jobFiles) {
                return problem
            }
            if let own, let problem = Jobs.Limits.problem(
                pid: member, threads: Jobs.Credentials.threads(of: member), ceilings: own.ceilings, ownOOMAdjust: own.oomAdjust) {
                return problem
            }
            // Jobs get a PID and a mount namespace and nothing else (Jobs.Launcher): a restored
            // user, network or other namespace would be the images' own, with whatever uid map
            // they name.
            // CRIU itself restores into a time namespace (so CLOCK_MONOTONIC goes on where it
            // was), which only offsets clocks.
            if let other = Jobs.Credentials.foreignNamespace(of: member, besides: ["pid", "pid_for_children", "time", "time_for_children", "mnt"]) {
                return "pid \(member) is in a \(other) namespace of its own"
            }
            // The job's own mount namespace (every process in the same one) holds only what a
            // job started here has (Jobs.MountNamespace).
            if Jobs.ProcFiles.link("/proc/\(member)/ns/mnt") != Jobs.ProcFiles.link("/proc/\(pid)/ns/mnt") {
                return "pid \(member) is in another mount namespace than the job's"
            }
            // Credentials are per thread, and CRIU restores each thread's own.
            for thread in Jobs.Credentials.threads(of: member) {
                guard let credentials = Jobs.Credentials.read(member, thread: thread) else {
                    return "cannot read the credentials of pid \(member) thread \(thread)"
                }
                guard credentials.matches(uid: uid, gid: gid, allowedGroups: uid == 0 ? credentials.groups : allowedGroups) else {
                    return "pid \(member) thread \(thread) runs as uids \(credentials.uids), gids \(credentials.gids), groups \(credentials.groups), not as the job's \(uid):\(gid)"
                }
            }
        }
        return nil
    }

    /// Whether the images in `directory` (or the rounds they link back to) hold a mount
    /// namespace: CRIU writes `mountpoints-ID.img` for each.
    static func imagesHoldAMountNamespace(_ directory: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).contains { $0.hasPrefix("mountpoints-") }
    }

    /// MemAvailable from /proc/meminfo, in bytes (0 when unreadable).
    static func availableMemoryBytes() -> UInt64 {
        let meminfo = Agent.HostFacts.text("/proc/meminfo") ?? ""
        let kib = Agent.LoadSampler.field("MemAvailable", in: meminfo)?.split(separator: " ").first.flatMap { UInt64($0) } ?? 0
        return kib << 10
    }
}
