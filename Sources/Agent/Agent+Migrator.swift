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

        // MARK: Source

        /// Moves running job `id` to `member`. On any failure before the destination confirms,
        /// the job is resumed here and the error thrown.
        func migrate(_ id: String, to member: Wire.MemberUpdate, precopy: Bool = true) async throws -> Outcome {
            let clock = ContinuousClock()
            let started = clock.now
            let (record, pid) = try await jobs.beginMigration(id)
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
                    while precopy && round < maxRounds {
                        round += 1
                        step = "pre-copy round \(round)"
                        let directory = work + "/\(round)"
                        _ = Migration.makeDirectories(directory)
                        // A process or thread of the job that exits mid-round fails the round
                        // ("No such process"); the next attempt sees the tree as it is now.
                        try await retrying(directory) {
                            _ = try await runCRIU(
                                criu.preDump(pid: pid, directory: directory, previous: round > 1 ? "../\(round - 1)" : nil),
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
                            criu.dump(pid: pid, directory: directory, previous: round > 1 ? "../\(round - 1)" : nil),
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

        // MARK: Destination

        /// Answers a migration stream whose first message was `first`.
        func receive(_ stream: SecureStream, first: Migration.Message, from peer: Wire.NodeID) async throws {
            if case .query(let id) = first {
                try await send(.state(running: await jobs.isRunningHere(id)), on: stream)
                return
            }
            guard case .offer(let id, _, _, let cpuinfo) = first else { throw Failure("a migration must begin with an offer") }
            let work = workRoot + "/\(id)-in"
            Migration.remove(work)
            guard Migration.makeDirectories(work) else {
                try await send(.refuse("cannot create \(work)"), on: stream)
                return
            }
            defer { Migration.remove(work) }
            if let problem = await CRIUCheck.shared.problem(criu: criu, work: work, run: runCRIU) {
                try await send(.refuse("CRIU cannot restore on this node: \(problem)"), on: stream)
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
            var restoredPID: Int32?
            var receivedPages = false
            do {
                while true {
                    let message = try await receive(on: stream)
                    switch message {
                    case .file(let round, let path, let size, let mode, let link) where round < 0:
                        _ = link
                        try await receiveOpenFile(path: path, size: size, mode: mode, on: stream)
                    case .file(let round, let path, let size, let mode, let link):
                        if round == 1 && !receivedPages {
                            receivedPages = true
                            await FaultPoint.destinationReceiving.pass()
                        }
                        let directory = round == 0 ? jobs.layout.directory(id) : work + "/\(round)"
                        try await receiveFile(directory: directory, path: path, size: size, mode: mode, link: link, on: stream)
                    case .restore(let round, let recordData):
                        let record = try JSONDecoder().decode(Jobs.Record.self, from: recordData)
                        let directory = work + "/\(round)"
                        let pidFile = work + "/restored.pid"
                        do {
                            _ = try await runCRIU(criu.restore(directory: directory, pidFile: pidFile), in: directory, log: "restore.log")
                        } catch {
                            try await send(.failed("\(error)"), on: stream)
                            return
                        }
                        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                              let pid = Int32(text.filter { $0.isNumber }) else {
                            try await send(.failed("criu restore wrote no pid"), on: stream)
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
                        throw Failure("unexpected \(message) during a migration")
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

        // MARK: Plumbing

        /// Runs a dump step up to 4 times, starting from an empty directory each time: a
        /// process or thread that exits while CRIU seizes the tree fails the attempt (criu then
        /// lets the tree run on), and the next one sees the tree as it is now. A job that ended
        /// altogether fails every attempt.
        func retrying(_ directory: String, _ step: () async throws -> Void) async throws {
            var attempt = 1
            while true {
                do {
                    try await step()
                    return
                } catch where attempt < 4 && "\(error)".contains("No such process") {
                    attempt += 1
                    Migration.remove(directory)
                    _ = Migration.makeDirectories(directory)
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }

        func withStream<T: Sendable>(to member: Wire.MemberUpdate, _ body: (SecureStream) async throws -> T) async throws -> T {
            let channel = try await StreamSocket.connect(to: member.address)
            let keys = core.keys
            let me = core.settings.nodeID
            return try await channel.executeThenClose { inbound, outbound in
                let stream = SecureStream(inbound: inbound, outbound: outbound)
                let peer = try await stream.connect(as: Wire.Stream.Client(keys: keys, me: me))
                guard peer == member.node else { throw Failure("\(member.address) answered as \(peer), not \(member.node)") }
                try await stream.send(Array(try JSONEncoder().encode(PeerFrame.migrationStart)))
                return try await body(stream)
            }
        }

        func send(_ message: Migration.Message, on stream: SecureStream) async throws {
            try await stream.send(Array(try JSONEncoder().encode(message)))
        }

        func receive(on stream: SecureStream) async throws -> Migration.Message {
            guard let payload = try await stream.receive() else { throw Failure("the other node closed the migration stream") }
            return try JSONDecoder().decode(Migration.Message.self, from: Data(payload))
        }

        /// Sends every file of `directory` as round `round`; returns the bytes sent.
        func sendDirectory(_ directory: String, round: Int, on stream: SecureStream) async throws -> UInt64 {
            var total: UInt64 = 0
            for entry in Migration.entries(of: directory) where !entry.path.hasSuffix(".log") {
                try await send(.file(round: round, path: entry.path, size: entry.size, mode: entry.mode, link: entry.link), on: stream)
                guard entry.link == nil else { continue }
                _ = try await sendContents(directory + "/" + entry.path, size: entry.size, on: stream)
                total += entry.size
            }
            return total
        }

        /// Sends every regular file a process of the job holds open, outside the job's
        /// directory and not on NFS, with its absolute path (round -1).
        func sendOpenFiles(of pid: Int32, on stream: SecureStream) async throws -> UInt64 {
            var total: UInt64 = 0
            for path in Migration.openRegularFiles(of: Jobs.Usage.processes(sharingNamespaceOf: pid)) where !path.hasPrefix(jobs.layout.root + "/") {
                var info = stat()
                guard stat(path, &info) == 0 else { continue }
                let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
                let name = String(path[path.index(after: path.lastIndex(of: "/") ?? path.startIndex)...])
                let size = UInt64(info.st_size)
                try await send(.file(round: -1, path: path, size: size, mode: UInt32(info.st_mode & 0o7777), link: nil), on: stream)
                total += try await sendContents(directory + "/" + name, size: size, on: stream)
            }
            return total
        }

        /// Writes a file the job holds open at its absolute path (replacing what is there: the
        /// restored process must find the file exactly as it was).
        func receiveOpenFile(path: String, size: UInt64, mode: UInt32, on stream: SecureStream) async throws {
            guard path.hasPrefix("/"), !path.contains("/../"), !path.hasPrefix("/proc/"), !path.hasPrefix("/sys/"), !path.hasPrefix("/dev/") else {
                throw Failure("refusing open file path \(path)")
            }
            let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            _ = Migration.makeDirectories(directory, mode: 0o755)
            let name = String(path[path.index(after: path.lastIndex(of: "/") ?? path.startIndex)...])
            try await receiveFile(directory: directory, path: name, size: size, mode: mode, link: nil, on: stream)
        }

        func sendContents(_ path: String, size: UInt64, on stream: SecureStream) async throws -> UInt64 {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw Failure("cannot read \(path)") }
            defer { close(descriptor) }
            var remaining = size
            var buffer = [UInt8](repeating: 0, count: Self.chunk)
            while remaining > 0 {
                let want = Int(min(UInt64(Self.chunk), remaining))
                let got = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, want) }
                guard got > 0 else { throw Failure("\(path) shrank while being sent") }
                try await stream.send(Array(buffer[0..<got]))
                remaining -= UInt64(got)
            }
            return size
        }

        func receiveFile(directory: String, path: String, size: UInt64, mode: UInt32, link: String?, on stream: SecureStream) async throws {
            guard !path.contains("/"), !path.hasPrefix(".") else { throw Failure("refusing file name \(path)") }
            _ = Migration.makeDirectories(directory)
            let target = directory + "/" + path
            unlink(target)
            if let link {
                guard symlink(link, target) == 0 else { throw Failure("cannot link \(target)") }
                return
            }
            let descriptor = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode))
            guard descriptor >= 0 else { throw Failure("cannot write \(target)") }
            defer { close(descriptor) }
            var remaining = size
            while remaining > 0 {
                guard let bytes = try await stream.receive() else { throw Failure("the stream ended inside \(path)") }
                guard UInt64(bytes.count) <= remaining else { throw Failure("\(path) is longer than announced") }
                let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                guard written == bytes.count else { throw Failure("cannot write \(target): disk full?") }
                remaining -= UInt64(bytes.count)
            }
        }

        /// Runs criu; on failure the error carries the last lines of its log.
        func runCRIU(_ arguments: [String], in directory: String, log: String) async throws -> Jobs.Exit {
            let exit: Jobs.Exit
            do {
                exit = try await Jobs.Command.run(arguments, log: directory + "/criu-output.log", directory: directory)
            } catch {
                throw Failure(error.description)
            }
            guard exit == .exited(0) else {
                let text = (try? String(contentsOfFile: directory + "/" + log, encoding: .utf8)) ?? ""
                let errors = text.split(separator: "\n").filter { $0.contains("Error") }.suffix(3).joined(separator: " | ")
                throw Failure("criu \(arguments[1]) failed (\(exit)): \(errors.isEmpty ? String(text.suffix(400)) : errors)")
            }
            return exit
        }
    }

    /// `criu check`, run once per agent: a node where it fails never receives jobs.
    actor CRIUCheck {
        static let shared = CRIUCheck()
        private var result: String??

        func problem(
            criu: Migration.CRIU, work: String,
            run: (_ arguments: [String], _ directory: String, _ log: String) async throws -> Jobs.Exit
        ) async -> String? {
            if let result { return result }
            var found: String?
            do {
                _ = try await run(criu.check(), work, "criu-output.log")
            } catch {
                found = "\(error)"
            }
            result = .some(found)
            return found
        }

        /// The check at agent start, in its own directory; logs why CRIU does not work.
        func works(logger: Logger) async -> Bool {
            let directory = "/run/clusterd/criu-check"
            _ = Migration.makeDirectories(directory)
            var info = stat()
            guard stat(Migration.CRIU().program, &info) == 0 else {
                result = .some("criu is not installed")
                logger.notice("criu is not installed: this node neither sends nor receives jobs")
                return false
            }
            let problem = await problem(criu: Migration.CRIU(), work: directory) { arguments, directory, _ in
                let exit = try await Jobs.Command.run(arguments, log: directory + "/criu-output.log", directory: directory)
                guard exit == .exited(0) else { throw Failure("criu check failed (\(exit)); see \(directory)/criu-output.log") }
                return exit
            }
            if let problem { logger.notice("\(problem): this node takes no jobs from others") }
            return problem == nil
        }
    }

    /// The first frame of a stream: a forwarded control request, or the start of a migration
    /// (the next frame is a ``Migration/Message``).
    struct PeerFrame: Codable, Sendable {
        var request: PeerRequest?
        var migration: Bool?

        init(request: PeerRequest) {
            self.request = request
        }

        /// The first frame of a migration stream.
        static let migrationStart = PeerFrame(migration: true)

        private init(migration: Bool) {
            self.migration = migration
        }
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
