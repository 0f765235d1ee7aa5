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

extension Agent.Migrator {
    // MARK: Destination

    /// Answers a migration stream whose first message was `first`. Everything in it comes from
    /// the network: the job id, the record and its uid, every file's round, name, size and
    /// link are checked (``Migration/Intake``, ``Jobs/Trust``) before they touch the disk, and
    /// the restored tree's credentials before it runs (Docs/security.md).
    func receive(_ stream: Agent.SecureStream, first: Migration.Message, from peer: Wire.NodeID) async throws {
        if case .query(let id) = first {
            guard Jobs.Layout.isJobID(id) else { throw Agent.Failure("a query for a malformed job id") }
            try await send(.state(running: await jobs.isRunningHere(id)), on: stream)
            return
        }
        guard case .offer(let id, let recordData, let memoryKiB, let cpuinfo) = first else { throw Agent.Failure("a migration must begin with an offer") }
        guard Jobs.Layout.isJobID(id) else {
            try await send(.refuse("\(Migration.Intake.shown(id)) is not a job id"), on: stream)
            return
        }
        let offered: Jobs.Record
        do {
            offered = try JSONDecoder().decode(Jobs.Record.self, from: recordData)
        } catch {
            try await send(.refuse("the job's record is unreadable"), on: stream)
            return
        }
        let trust = core.settings.trust
        let localGroups = Jobs.Trust.localGroups(of: offered.uid)
        guard offered.id == id else {
            try await send(.refuse("the record is for job \(Migration.Intake.shown(offered.id)), not \(id)"), on: stream)
            return
        }
        if let refusal = trust.refusal(uid: offered.uid, gid: offered.gid, localGroups: localGroups) {
            logger.notice("refused job \(id) from \(peer): \(refusal)")
            try await send(.refuse(refusal), on: stream)
            return
        }
        guard await !jobs.isRunningHere(id) else {
            try await send(.refuse("job \(id) already runs on \(core.settings.hostname)"), on: stream)
            return
        }
        // Images sit in tmpfs beside the restored job: take what leaves a reserve free.
        let available = Self.availableMemoryBytes()
        let reserve: UInt64 = 64 << 20
        guard memoryKiB < available >> 10 else {
            try await send(.refuse("the job uses \(memoryKiB >> 10) MiB and \(core.settings.hostname) has \(available >> 20) MiB available"), on: stream)
            return
        }
        var intake = Migration.Intake(budget: available > reserve ? available - reserve : 0)
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
        var restoredPID: Int32?
        var receivedPages = false
        // Whatever ends this exchange before a restore, the job's directory goes with it.
        defer {
            if restoredPID == nil { Migration.remove(jobs.layout.directory(id)) }
        }
        do {
            while true {
                let message = try await receive(on: stream)
                switch message {
                case .file(let round, let path, let size, let mode, let link):
                    let placement: Migration.Intake.Placement
                    do {
                        placement = try intake.admit(round: round, path: path, size: size, link: link)
                    } catch {
                        logger.notice("job \(id) from \(peer): refused a file: \(error)")
                        throw Agent.Failure("refused a file of job \(id): \(error)")
                    }
                    switch placement {
                    case .openFile(let absolute):
                        try await receiveOpenFile(path: absolute, size: size, mode: mode, owner: offered, on: stream)
                    case .jobFile("job.json"):
                        // The record that counts is the offer's, checked above and written by
                        // adoptRestored; a record file from the network never reaches the disk.
                        try await receiveContents(into: -1, name: "job.json", size: size, on: stream)
                    case .jobFile(let name):
                        try await receiveFile(directory: jobs.layout.directory(id), path: name, size: size, mode: mode & 0o640, link: nil, on: stream)
                        _ = chown(jobs.layout.directory(id) + "/" + name, offered.uid, offered.gid)
                    case .image(let round, let name):
                        if round == 1 && !receivedPages {
                            receivedPages = true
                            await Agent.FaultPoint.destinationReceiving.pass()
                        }
                        try await receiveFile(directory: work + "/\(round)", path: name, size: size, mode: mode & 0o600, link: nil, on: stream)
                    case .parentLink(let round, let target):
                        try await receiveFile(directory: work + "/\(round)", path: "parent", size: 0, mode: 0, link: target, on: stream)
                    }
                case .restore(let round, let recordData):
                    guard (1...Migration.Intake.maxRound).contains(round) else { throw Agent.Failure("restore from round \(round)") }
                    // The record that runs is the one the offer was checked with.
                    guard let record = try? JSONDecoder().decode(Jobs.Record.self, from: recordData),
                          record.id == id, record.uid == offered.uid, record.gid == offered.gid else {
                        try await send(.failed("the record sent with restore differs from the offer's"), on: stream)
                        return
                    }
                    let directory = work + "/\(round)"
                    let pidFile = work + "/restored.pid"
                    // A job with a mount namespace of its own (Jobs.MountNamespace) is restored
                    // into a new one whose root is this node's: CRIU's --root is a bind mount of
                    // `/`, detached again once the restore is done.
                    let rootBind = work + "/root"
                    var mounts: [String] = []
                    if Self.imagesHoldAMountNamespace(directory) {
                        guard mkdir(rootBind, 0o700) == 0 || errno == EEXIST, mount("/", rootBind, nil, UInt(MS_BIND), nil) == 0 else {
                            try await send(.failed("cannot bind / for the job's mount namespace: \(String(cString: strerror(errno)))"), on: stream)
                            return
                        }
                        mounts = Jobs.MountNamespace.restoreArguments(
                            root: rootBind, host: Jobs.MountNamespace.parse(Jobs.ProcFiles.read("/proc/self/mountinfo") ?? ""))
                    }
                    do {
                        defer { if !mounts.isEmpty { _ = umount2(rootBind, Int32(MNT_DETACH)) } }
                        _ = try await runCRIU(criu.restore(directory: directory, pidFile: pidFile, mounts: mounts), in: directory, log: "restore.log")
                    } catch {
                        try await send(.failed("\(error)"), on: stream)
                        return
                    }
                    guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                          let pid = Int32(text.filter { $0.isNumber }) else {
                        try await send(.failed("criu restore wrote no pid"), on: stream)
                        return
                    }
                    // Still stopped (--leave-stopped): run it only if it is who the record says.
                    if let problem = Self.credentialProblem(
                        restored: pid, uid: record.uid, gid: record.gid, allowedGroups: trust.peerGroups(localGroups ?? [], gid: record.gid),
                        jobFiles: [jobs.layout.stdout(id), jobs.layout.stderr(id)]) {
                        _ = kill(pid, SIGKILL)
                        logger.warning("job \(id) from \(peer): restored tree killed: \(problem)")
                        try await send(.failed("the restored job was killed: \(problem)"), on: stream)
                        return
                    }
                    restoredPID = pid
                    await jobs.adoptRestored(record, pid: pid)
                    try await send(.restored(pid: pid), on: stream)
                case .commit:
                    if let pid = restoredPID { await jobs.continueRestored(id, pid: pid) }
                    try? await send(.done, on: stream)
                    return
                case .abort:
                    if let pid = restoredPID { await jobs.discardRestored(id, pid: pid) }
                    return
                default:
                    throw Agent.Failure("unexpected \(message) during a migration")
                }
            }
        } catch {
            // Lost the source. Restored and waiting: the source saw `restored` and dropped
            // its copy, or it will ask (query) and learn that we run it. Either way we run.
            if let pid = restoredPID {
                logger.warning("job \(id): lost the source after restoring; running it here")
                await jobs.continueRestored(id, pid: pid)
            } else {
                Migration.remove(jobs.layout.directory(id))
            }
            throw error
        }
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
        for member in members {
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
