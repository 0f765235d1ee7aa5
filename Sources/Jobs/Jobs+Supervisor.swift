#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Logging
import Processes
import NodeError

extension Jobs {
    /// The jobs of one node: starts them, learns of their ends from the ``Reaper``, kills them,
    /// and reads their output. Each job's state is one ``Job`` value (its record, kept in its
    /// `job.json`, and its phase here); this actor does the I/O around them.
    public actor Supervisor {
        /// A job as `cluster ps` needs it.
        public struct Snapshot: Sendable, Equatable {
            public var record: Record
            public var usage: Usage
            /// The job's PID inside its namespace (1 while its init runs).
            public var namespacePID: Int32
            /// Bytes of memory it writes per second, last measured (``Job/dirtyRate``).
            public var dirtyRate: Double? = nil
        }

        /// Why a request about jobs failed: the node side's one error type.
        public typealias Failure = NodeError

        public nonisolated let layout: Layout
        let nodeID: UInt64
        let hostname: String
        let launcher: Launcher
        let logger: Logger
        /// Every job this node has or had, by id.
        private var jobs: [String: Job] = [:]
        /// Jobs restored here by post-copy whose memory is still arriving: their fate is not
        /// settled, so a query from the source gets no answer yet.
        private var pulling: Set<String> = []
        private var nextCounter = 1
        /// Processes whose end ``watchEnds()`` waits for: a job's `unshare`, or a restored init.
        private let watches: AsyncStream<(id: String, pid: pid_t)>
        private let newWatch: AsyncStream<(id: String, pid: pid_t)>.Continuation

        public init(layout: Layout, nodeID: UInt64, hostname: String, launcher: Launcher = Launcher(), logger: Logger) {
            self.layout = layout
            self.nodeID = nodeID
            self.hostname = hostname
            self.launcher = launcher
            self.logger = logger
            (watches, newWatch) = AsyncStream.makeStream()
        }

        /// Learns of the jobs' ends from the ``Processes/Reaper``, one child task per watched
        /// process, until cancelled (the agent stopping: its jobs run on, and the next agent
        /// adopts them). Runs in the agent's task group beside its servers.
        public nonisolated func watchEnds() async {
            await withDiscardingTaskGroup { group in
                for await watch in watches {
                    group.addTask {
                        guard let ended = await Processes.Reaper.shared.endedUnlessCancelled(of: watch.pid) else { return }
                        await self.ended(watch.id, ended.exit, cpuSeconds: ended.cpuSeconds)
                    }
                }
            }
        }

        /// Creates the jobs directory (root-only: users see their output through the agent)
        /// and loads the records of earlier jobs. A job still running from an earlier agent
        /// is adopted: no longer its child, it is watched through /proc instead of reaped, so
        /// its exit status is lost but not the job.
        public func load() throws(Failure) {
            if mkdir(layout.root, 0o700) != 0 && errno != EEXIST {
                // Parents first (/var/lib/clusterd).
                let parent = String(layout.root[..<(layout.root.lastIndex(of: "/") ?? layout.root.startIndex)])
                _ = mkdir(parent, 0o755)
                guard mkdir(layout.root, 0o700) == 0 || errno == EEXIST else {
                    throw Failure(.system, "cannot create \(layout.root): \(String(cString: strerror(errno)))")
                }
            }
            for id in Self.entries(of: layout.root) where Layout.isJobID(id) {
                guard let text = ProcFiles.read(layout.record(id)),
                      var record = try? JSONDecoder().decode(Record.self, from: Data(text.utf8)), record.id == id else { continue }
                var job = Job(record: record, phase: .ended)
                if record.state == .running {
                    // Only a job's own namespace init, known by its start time, is adopted: a
                    // record naming any other process would let its owner kill or move it.
                    if let pid = record.hostPID, let start = record.hostPIDStart, Self.isAlive(pid, startTicks: start),
                       let namespace = Usage.pidNamespace(of: pid), namespace != Usage.pidNamespace(of: getpid()) {
                        job = Job(record: record, phase: .running(initPID: pid), watch: .polled)
                        logger.info("job \(id): adopted (pid \(pid))")
                    } else {
                        record.state = .failed("ended while the agent was not running; exit status unknown")
                        record.endedAt = UInt64(time(nil))
                        job.record = record
                        try? write(record)
                    }
                } else if case .moved = record.state {
                    job.phase = .moved
                }
                jobs[id] = job
                if let counter = Layout.counter(in: id, node: nodeID) { nextCounter = max(nextCounter, counter + 1) }
            }
        }

        /// Starts a job for `uid`:`gid`.
        public func start(
            arguments: [String], workingDirectory: String, environment: [String], uid: UInt32, gid: UInt32, stay: Bool,
            supplementaryGroups: [UInt32]? = nil, placement: String? = nil
        ) async throws(Failure) -> Record {
            guard !arguments.isEmpty else { throw Failure(.input, "no command given: cluster run -- COMMAND [ARGUMENTS]") }
            let id = Layout.jobID(node: nodeID, counter: nextCounter)
            nextCounter += 1
            let owner = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? String(uid)
            var record = Record(
                id: id, arguments: arguments, workingDirectory: workingDirectory, environment: environment,
                uid: uid, gid: gid, owner: owner, homeNode: hostname, stay: stay, startedAt: UInt64(time(nil)))
            record.supplementaryGroups = supplementaryGroups
            record.placement = placement
            guard mkdir(layout.directory(id), 0o700) == 0 else {
                throw Failure(.system, "cannot create \(layout.directory(id)): \(String(cString: strerror(errno)))")
            }
            let wrapper: pid_t
            do {
                wrapper = try launcher.spawn(record, layout: layout)
            } catch {
                record.state = .failed(error.description)
                jobs[id] = Job(record: record, phase: .ended)
                try? write(record)
                throw Failure(description: error.description)
            }
            watch(id, pid: wrapper)
            jobs[id] = Job(record: record, phase: .running(initPID: nil))
            try write(record)
            logger.info("job \(id) started for \(owner): \(arguments.joined(separator: " "))")
            // `unshare` forks the init at once; other requests are answered meanwhile, and the
            // job may even have ended.
            let pid = await Launcher.namespaceInit(of: wrapper)
            guard var job = jobs[id], job.phase == .running(initPID: nil) else { return jobs[id]?.record ?? record }
            guard let pid else {
                logger.warning("job \(id): no namespace init under unshare \(wrapper)")
                return job.record
            }
            job.phase = .running(initPID: pid)
            job.record.hostPID = pid
            job.record.hostPIDStart = Self.startTicks(pid)
            jobs[id] = job
            try write(job.record)
            return job.record
        }

        /// Has ``watchEnds()`` learn of `pid`'s end: `unshare` for a job started here, the
        /// restored init for a job that arrived.
        private func watch(_ id: String, pid: pid_t) {
            newWatch.yield((id, pid))
        }

        /// A job's init ended (`exit` nil: status unknown).
        private func ended(_ id: String, _ exit: Processes.Exit?, cpuSeconds: Double?) {
            guard var job = jobs[id], job.ended(exit, cpuSeconds: cpuSeconds, at: UInt64(time(nil))) else { return }
            jobs[id] = job
            try? write(job.record)
            logger.info("job \(id) ended: \(job.record.state.name) \(job.record.state.code.map(String.init) ?? "")")
        }

        /// Where a job is, as far as this node knows.
        public enum Location: Sendable, Equatable {
            case here
            case movedTo(String)
            case unknown
        }

        public func location(_ id: String) -> Location {
            guard let job = jobs[id] else { return .unknown }
            if case .moved(let node) = job.record.state { return .movedTo(node) }
            return .here
        }

        /// Marks running job `id` as migrating; returns its record and the namespace init's pid.
        public func beginMigration(_ id: String) throws(Failure) -> (Record, pid_t) {
            guard var job = jobs[id] else { throw unknown(id) }
            if let refusal = job.beginMigration() { throw refusal }
            jobs[id] = job
            guard let pid = job.initPID else { throw Failure(.conflict, "job \(id) is not running here") }
            return (job.record, pid)
        }

        public func isMigrating(_ id: String) -> Bool { jobs[id]?.isMigrating ?? false }

        /// A move that never began (the job was found immovable).
        public func endMigration(_ id: String) { jobs[id]?.endMigration() }

        /// Why the move of job `id` must stop now (cancelled, killed, ended), or nil.
        public func moveStop(_ id: String) -> Failure? { jobs[id]?.moveStop }

        /// The final dump of job `id` is about to begin (``Job/beginFreeze()``).
        public func beginFreeze(_ id: String) throws(Failure) {
            guard var job = jobs[id] else { throw unknown(id) }
            if let stop = job.beginFreeze() { throw stop }
            jobs[id] = job
        }

        /// The restore request for job `id` is about to leave (``Job/beginHandOver()``).
        public func beginHandOver(_ id: String) throws(Failure) {
            guard var job = jobs[id] else { throw unknown(id) }
            if let stop = job.beginHandOver() { throw stop }
            jobs[id] = job
        }

        /// `cluster migrate --cancel`: the move stops before its freeze (``Job/cancelMove(by:)``).
        public func cancelMove(_ id: String, by uid: UInt32) throws(Failure) -> Record {
            guard var job = jobs[id] else { throw unknown(id) }
            if let refusal = job.cancelMove(by: uid) { throw refusal }
            jobs[id] = job
            logger.info("the move of job \(id) was cancelled by uid \(uid)")
            return job.record
        }

        /// A migration that ended with the job here: SIGCONT to every process of the job (the
        /// final dump may have left them stopped), and it runs on here, unless it was killed
        /// during the hand-over: then it is killed now.
        public func resume(_ id: String) {
            guard var job = jobs[id] else { return }
            let deferredKill = job.endMigration()
            guard let pid = job.initPID else {
                jobs[id] = job
                return
            }
            if deferredKill != nil {
                job.killRequested = true
                _ = Glibc.kill(pid, SIGKILL)
                logger.info("job \(id) killed: the kill asked for during its hand-over")
            }
            jobs[id] = job
            for member in Usage.processes(sharingNamespaceOf: pid) { _ = Glibc.kill(member, SIGCONT) }
            if deferredKill == nil { logger.info("job \(id) resumed on this node") }
        }

        /// The destination confirmed: the stopped copy here is killed and the record says
        /// where the job went (`moved`, the destination's record, when known).
        /// Returns the uid of a kill asked for during the hand-over: the agent carries it out
        /// at the destination.
        @discardableResult
        public func finishMigration(_ id: String, movedTo moved: Record?) -> UInt32? {
            guard var job = jobs[id] else { return nil }
            let deferredKill = job.move?.killAfterwards
            let pid = job.moved(to: moved, at: UInt64(time(nil)))
            jobs[id] = job
            try? write(job.record)
            if let pid { _ = Glibc.kill(pid, SIGKILL) }
            Self.removeOutput(id, layout: layout)
            return deferredKill
        }

        /// A job restored here by CRIU (stopped until ``continueRestored(_:pid:)``): its
        /// record, arrived with it, is now this node's, and its init is this agent's child
        /// (the agent is a subreaper), so its exit status is reaped here.
        public func adoptRestored(_ record: Record, pid: pid_t) {
            var record = record
            record.state = .running
            record.hostPID = pid
            record.hostPIDStart = Self.startTicks(pid)
            jobs[record.id] = Job(record: record, phase: .running(initPID: pid))
            try? write(record)
            watch(record.id, pid: pid)
        }

        public func continueRestored(_ id: String, pid: pid_t) {
            for member in Usage.processes(sharingNamespaceOf: pid) { _ = Glibc.kill(member, SIGCONT) }
            logger.info("job \(id) runs here now (pid \(pid))")
        }

        public func discardRestored(_ id: String, pid: pid_t) {
            _ = Glibc.kill(pid, SIGKILL)
            jobs[id] = nil
        }

        /// Marks job `id` as restored by post-copy with memory still to come, or no longer.
        public func setPulling(_ id: String, _ on: Bool) {
            if on { pulling.insert(id) } else { pulling.remove(id) }
        }

        /// Whether job `id`'s memory is still arriving (post-copy).
        public func isPulling(_ id: String) -> Bool {
            pulling.contains(id)
        }

        public func isRunningHere(_ id: String) -> Bool {
            jobs[id].map { $0.record.state == .running && $0.isHere } ?? false
        }

        public func usage(_ id: String) -> Usage {
            jobs[id]?.initPID.flatMap { Usage.read(initPID: $0) } ?? Usage()
        }

        /// Pins or releases a job; only its owner or root.
        public func setStay(_ id: String, _ stay: Bool, by uid: UInt32) throws(Failure) {
            guard var job = jobs[id] else { throw unknown(id) }
            guard uid == 0 || uid == job.record.uid else {
                throw Failure(.permission, "job \(id) belongs to \(job.record.owner); only they or root can change it")
            }
            job.record.stay = stay
            jobs[id] = job
            try write(job.record)
        }

        /// Whether this node has (or had) job `id`.
        public func knows(_ id: String) -> Bool {
            jobs[id] != nil
        }

        /// Every job, oldest first, with current usage for running ones.
        public func snapshots() -> [Snapshot] {
            checkAdopted()
            return jobs.values.sorted { ($0.record.startedAt, $0.id) < ($1.record.startedAt, $1.id) }.map(snapshot)
        }

        public func snapshot(_ id: String) throws(Failure) -> Snapshot {
            guard let job = jobs[id] else { throw unknown(id) }
            return snapshot(job)
        }

        private func snapshot(_ job: Job) -> Snapshot {
            let pid = job.initPID
            let usage = pid.flatMap { Usage.read(initPID: $0) } ?? Usage(cpuSeconds: job.record.cpuSecondsAtEnd ?? 0)
            return Snapshot(record: job.record, usage: usage, namespacePID: pid.flatMap(Self.namespacePID) ?? 0, dirtyRate: job.dirtyRate)
        }

        /// One step of measuring how fast job `id` writes its memory (``DirtyPages``): the first
        /// call clears its soft-dirty bits and returns nil; the next reads what was written since,
        /// stores the rate (``Snapshot/dirtyRate``) and returns it. Never while the job migrates
        /// (CRIU's pre-copy owns the bits then; a move in between starts the measurement over),
        /// and never across an `await`: a move cannot begin between the read and the clear.
        public func sampleDirtyRate(_ id: String, now: ContinuousClock.Instant) -> Double? {
            guard DirtyPages.isSupported, var job = jobs[id], !job.isMigrating, case .running(let pid?) = job.phase else { return nil }
            var bytes: UInt64 = 0
            for process in Usage.processes(sharingNamespaceOf: pid) {
                bytes += DirtyPages.sample(pid: process) ?? 0
            }
            defer { jobs[id] = job }
            guard let since = job.dirtyClearedAt, now > since else {
                job.dirtyClearedAt = now
                return nil
            }
            let seconds = Double((now - since).components.seconds) + Double((now - since).components.attoseconds) / 1e18
            job.dirtyClearedAt = nil
            job.dirtyRate = Double(bytes) / seconds
            return job.dirtyRate
        }

        /// Starts a fresh measurement of job `id`'s dirty rate, dropping one under way (the
        /// balancer's): clears its soft-dirty bits now, for the next ``sampleDirtyRate(_:now:)``
        /// to read. False if the job cannot be measured (see there).
        public func startDirtyRateMeasurement(_ id: String, now: ContinuousClock.Instant) -> Bool {
            guard DirtyPages.isSupported, var job = jobs[id], !job.isMigrating, case .running(let pid?) = job.phase else { return false }
            for process in Usage.processes(sharingNamespaceOf: pid) {
                _ = DirtyPages.sample(pid: process)
            }
            job.dirtyClearedAt = now
            jobs[id] = job
            return true
        }

        /// Job `id`'s dirty rate as last measured, nil if never.
        public func dirtyRate(_ id: String) -> Double? {
            jobs[id]?.dirtyRate
        }

        /// What a move's pre-copy rounds measured of job `id`'s dirty rate.
        public func noteDirtyRate(_ id: String, _ rate: Double) {
            jobs[id]?.dirtyRate = rate
        }

        /// Running jobs, for the load this node publishes (called every second).
        public func runningCount() -> Int {
            checkAdopted()
            return jobs.values.count { $0.record.state == .running }
        }

        /// Adopted jobs whose init has gone: ended, status unknown (or killed, if we killed it).
        private func checkAdopted() {
            for job in jobs.values where job.watch == .polled {
                guard let pid = job.initPID, !Self.isAlive(pid, startTicks: job.record.hostPIDStart) else { continue }
                ended(job.id, nil, cpuSeconds: nil)
            }
        }

        /// Whether `pid` is still the process recorded: it exists and started (in clock ticks
        /// since boot, /proc/PID/stat field 22) when the record says, so a reused pid is not
        /// mistaken for the job.
        static func isAlive(_ pid: pid_t, startTicks: UInt64?) -> Bool {
            guard let line = ProcFiles.read("/proc/\(pid)/stat"), let fields = StatFields(line) else { return false }
            return startTicks == nil || fields.startTicks == startTicks
        }

        static func startTicks(_ pid: pid_t) -> UInt64? {
            ProcFiles.read("/proc/\(pid)/stat").flatMap(StatFields.init).map(\.startTicks)
        }

        /// SIGKILL to the namespace's init, which takes every process of the job with it.
        /// `uid` must own the job or be root.
        public func kill(_ id: String, by uid: UInt32) throws(Failure) -> (record: Record, action: Job.KillAction) {
            guard var job = jobs[id] else { throw unknown(id) }
            let action: Job.KillAction
            switch job.kill(by: uid) {
            case .failure(let refusal): throw refusal
            case .success(let chosen): action = chosen
            }
            if action == .now {
                guard let pid = job.initPID, Glibc.kill(pid, SIGKILL) == 0 else {
                    throw Failure(.system, "cannot kill job \(id) (pid \(job.initPID ?? 0)): \(String(cString: strerror(errno)))")
                }
                if job.isMigrating { logger.info("job \(id) killed during its move") }
            }
            jobs[id] = job
            return (job.record, action)
        }

        /// Up to `limit` bytes of each output file from the given offsets.
        public func output(_ id: String, stdout: UInt64, stderr: UInt64, limit: Int = 256 * 1024) throws(Failure) -> (stdout: [UInt8], stderr: [UInt8], job: Snapshot) {
            guard let job = jobs[id] else { throw unknown(id) }
            let snapshot = snapshot(job)
            return (Self.read(layout.stdout(id), from: stdout, limit: limit), Self.read(layout.stderr(id), from: stderr, limit: limit), snapshot)
        }

        private func unknown(_ id: String) -> Failure {
            Failure(.notFound, "no job \(id) on \(hostname); `cluster ps` lists the jobs")
        }

        private func write(_ record: Record) throws(Failure) {
            let path = layout.record(record.id)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let data = try? encoder.encode(record) else { throw Failure(description: "cannot encode job \(record.id)") }
            let temporary = path + ".tmp"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw Failure(.system, "cannot write \(temporary): \(String(cString: strerror(errno)))") }
            let written = data.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            guard written == data.count, rename(temporary, path) == 0 else {
                throw Failure(.system, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }

        static func read(_ path: String, from offset: UInt64, limit: Int) -> [UInt8] {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return [] }
            defer { close(descriptor) }
            var buffer = [UInt8](repeating: 0, count: limit)
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, limit, off_t(offset)) }
            return count > 0 ? Array(buffer[0..<count]) : []
        }

        /// The output files of a job that moved away (they travelled with it).
        static func removeOutput(_ id: String, layout: Layout) {
            unlink(layout.stdout(id))
            unlink(layout.stderr(id))
        }

        /// The last pid in NSpid: the process's pid in its own (innermost) namespace.
        static func namespacePID(_ pid: pid_t) -> Int32? {
            guard let status = ProcFiles.read("/proc/\(pid)/status"),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }) else { return nil }
            return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.flatMap { Int32($0) }
        }

        static func entries(of directory: String) -> [String] {
            guard let handle = opendir(directory) else { return [] }
            defer { closedir(handle) }
            var names: [String] = []
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if !name.hasPrefix(".") { names.append(name) }
            }
            return names
        }
    }
}
