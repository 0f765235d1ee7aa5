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
import Logging

extension Jobs {
    /// The jobs of one node: starts them, learns of their ends from the ``Reaper``, kills them,
    /// and reads their output. Records are kept in each job's `job.json`.
    public actor Supervisor {
        /// A job as `cluster ps` needs it.
        public struct Snapshot: Sendable, Equatable {
            public var record: Record
            public var usage: Usage
            /// The job's PID inside its namespace (1 while its init runs).
            public var namespacePID: Int32
        }

        /// Why a request about jobs failed; `description` is a sentence for the user.
        public struct Failure: Error, Sendable, CustomStringConvertible {
            public var description: String

            public init(description: String) {
                self.description = description
            }
        }

        public nonisolated let layout: Layout
        let nodeID: UInt64
        let hostname: String
        let launcher: Launcher
        let logger: Logger
        private var records: [String: Record] = [:]
        /// Running jobs: the namespace init's host pid, and `unshare`'s.
        private var initPID: [String: pid_t] = [:]
        private var wrapperPID: [pid_t: String] = [:]
        private var nextCounter = 1
        /// Jobs this agent sent SIGKILL: `unshare` does not report a killed init reliably
        /// (util-linux 2.38 exits 1 after "sigprocmask unblock failed"), so the agent records
        /// what it did.
        private var killed: Set<String> = []
        /// Running jobs started by an earlier agent: not our children, polled instead.
        private var adopted: Set<String> = []

        public init(layout: Layout, nodeID: UInt64, hostname: String, launcher: Launcher = Launcher(), logger: Logger) {
            self.layout = layout
            self.nodeID = nodeID
            self.hostname = hostname
            self.launcher = launcher
            self.logger = logger
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
                    throw Failure(description: "cannot create \(layout.root): \(String(cString: strerror(errno)))")
                }
            }
            for id in Self.entries(of: layout.root) where Layout.isJobID(id) {
                guard let text = ProcFiles.read(layout.record(id)),
                      var record = try? JSONDecoder().decode(Record.self, from: Data(text.utf8)), record.id == id else { continue }
                if record.state == .running {
                    // Only a job's own namespace init, known by its start time, is adopted: a
                    // record naming any other process would let its owner kill or move it.
                    if let pid = record.hostPID, let start = record.hostPIDStart, Self.isAlive(pid, startTicks: start),
                       let namespace = Usage.pidNamespace(of: pid), namespace != Usage.pidNamespace(of: getpid()) {
                        initPID[id] = pid
                        adopted.insert(id)
                        logger.info("job \(id): adopted (pid \(pid))")
                    } else {
                        record.state = .failed("ended while the agent was not running; exit status unknown")
                        record.endedAt = UInt64(time(nil))
                        try? write(record)
                    }
                }
                records[id] = record
                if let counter = Layout.counter(in: id, node: nodeID) { nextCounter = max(nextCounter, counter + 1) }
            }
        }

        /// Starts a job for `uid`:`gid`.
        public func start(
            arguments: [String], workingDirectory: String, environment: [String], uid: UInt32, gid: UInt32, stay: Bool,
            supplementaryGroups: [UInt32]? = nil
        ) throws(Failure) -> Record {
            guard !arguments.isEmpty else { throw Failure(description: "no command given: cluster run -- COMMAND [ARGUMENTS]") }
            let id = Layout.jobID(node: nodeID, counter: nextCounter)
            nextCounter += 1
            let owner = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? String(uid)
            var record = Record(
                id: id, arguments: arguments, workingDirectory: workingDirectory, environment: environment,
                uid: uid, gid: gid, owner: owner, homeNode: hostname, stay: stay, startedAt: UInt64(time(nil)))
            record.supplementaryGroups = supplementaryGroups
            guard mkdir(layout.directory(id), 0o700) == 0 else {
                throw Failure(description: "cannot create \(layout.directory(id)): \(String(cString: strerror(errno)))")
            }
            let wrapper: pid_t
            do {
                wrapper = try launcher.spawn(record, layout: layout)
            } catch {
                record.state = .failed(error.description)
                records[id] = record
                try? write(record)
                throw Failure(description: error.description)
            }
            wrapperPID[wrapper] = id
            records[id] = record
            Task { [self] in
                let ended = await Reaper.shared.ended(of: wrapper)
                await self.reaped(wrapper, ended)
            }
            if let pid = Launcher.namespaceInit(of: wrapper) {
                initPID[id] = pid
                record.hostPID = pid
                record.hostPIDStart = Self.startTicks(pid)
                records[id] = record
            } else if records[id]?.state == .running {
                logger.warning("job \(id): no namespace init under unshare \(wrapper)")
            }
            try write(record)
            logger.info("job \(id) started for \(owner): \(arguments.joined(separator: " "))")
            return records[id] ?? record
        }

        /// A job's process ended (from the ``Reaper``).
        func reaped(_ pid: pid_t, _ ended: Reaper.Ended) {
            guard let id = wrapperPID.removeValue(forKey: pid), var record = records[id] else { return }
            if case .moved = record.state { return }
            initPID[id] = nil
            record.cpuSecondsAtEnd = ended.cpuSeconds
            if killed.remove(id) != nil {
                record.state = .killed(SIGKILL)
            } else if record.state == .running {
                switch ended.exit {
                case .exited(let code): record.state = .exited(code)
                case .signaled(let signal): record.state = .killed(signal)
                }
            }
            record.endedAt = UInt64(time(nil))
            records[id] = record
            try? write(record)
            logger.info("job \(id) ended: \(record.state.name) \(record.state.code.map(String.init) ?? "")")
        }

        /// Jobs being migrated away: not killable, not offered twice.
        private var migrating: Set<String> = []

        /// Where a job is, as far as this node knows.
        public enum Location: Sendable, Equatable {
            case here
            case movedTo(String)
            case unknown
        }

        public func location(_ id: String) -> Location {
            guard let record = records[id] else { return .unknown }
            if case .moved(let node) = record.state { return .movedTo(node) }
            return .here
        }

        /// Marks running job `id` as migrating; returns its record and the namespace init's pid.
        public func beginMigration(_ id: String) throws(Failure) -> (Record, pid_t) {
            guard let record = records[id] else { throw unknown(id) }
            guard record.state == .running, let pid = initPID[id] else {
                throw Failure(description: "job \(id) is not running here (\(record.state.name))")
            }
            guard !migrating.contains(id) else { throw Failure(description: "job \(id) is already migrating") }
            migrating.insert(id)
            return (record, pid)
        }

        public func isMigrating(_ id: String) -> Bool { migrating.contains(id) }

        public func endMigration(_ id: String) { migrating.remove(id) }

        /// A failed migration: SIGCONT to every process of the job (the final dump left them
        /// stopped), and it runs on here.
        public func resume(_ id: String) {
            migrating.remove(id)
            guard let pid = initPID[id] else { return }
            for member in Usage.processes(sharingNamespaceOf: pid) { _ = Glibc.kill(member, SIGCONT) }
            logger.info("job \(id) resumed on this node")
        }

        /// The destination confirmed: the stopped copy here is killed and the record says
        /// where the job went (`moved`, the destination's record, when known).
        public func finishMigration(_ id: String, movedTo moved: Record?) {
            migrating.remove(id)
            guard var record = records[id] else { return }
            let destination = moved?.currentNode ?? "another node"
            record.state = .moved(destination)
            if let moved { record.migrations = moved.migrations; record.currentNode = moved.currentNode }
            record.endedAt = UInt64(time(nil))
            records[id] = record
            try? write(record)
            if let pid = initPID.removeValue(forKey: id) { _ = Glibc.kill(pid, SIGKILL) }
            Self.removeOutput(id, layout: layout)
        }

        /// A job restored here by CRIU (stopped until ``continueRestored(_:pid:)``): its
        /// record, arrived with it, is now this node's, and its init is this agent's child
        /// (the agent is a subreaper), so its exit status is reaped here.
        public func adoptRestored(_ record: Record, pid: pid_t) {
            var record = record
            record.state = .running
            record.hostPID = pid
            record.hostPIDStart = Self.startTicks(pid)
            records[record.id] = record
            initPID[record.id] = pid
            try? write(record)
            let id = record.id
            Task { [self] in
                let ended = await Reaper.shared.ended(of: pid)
                await self.restoredEnded(id, ended)
            }
        }

        public func continueRestored(_ id: String, pid: pid_t) {
            for member in Usage.processes(sharingNamespaceOf: pid) { _ = Glibc.kill(member, SIGCONT) }
            logger.info("job \(id) runs here now (pid \(pid))")
        }

        public func discardRestored(_ id: String, pid: pid_t) {
            _ = Glibc.kill(pid, SIGKILL)
            records[id] = nil
            initPID[id] = nil
        }

        public func isRunningHere(_ id: String) -> Bool {
            records[id]?.state == .running && initPID[id] != nil
        }

        public func usage(_ id: String) -> Usage {
            initPID[id].flatMap { Usage.read(initPID: $0) } ?? Usage()
        }

        private func restoredEnded(_ id: String, _ ended: Reaper.Ended) {
            guard var record = records[id], record.state == .running else { return }
            initPID[id] = nil
            record.cpuSecondsAtEnd = ended.cpuSeconds
            if killed.remove(id) != nil {
                record.state = .killed(SIGKILL)
            } else {
                switch ended.exit {
                case .exited(let code): record.state = .exited(code)
                case .signaled(let signal): record.state = .killed(signal)
                }
            }
            record.endedAt = UInt64(time(nil))
            records[id] = record
            try? write(record)
            logger.info("job \(id) ended: \(record.state.name) \(record.state.code.map(String.init) ?? "")")
        }

        /// Pins or releases a job; only its owner or root.
        public func setStay(_ id: String, _ stay: Bool, by uid: UInt32) throws(Failure) {
            guard var record = records[id] else { throw unknown(id) }
            guard uid == 0 || uid == record.uid else {
                throw Failure(description: "job \(id) belongs to \(record.owner); only they or root can change it")
            }
            record.stay = stay
            records[id] = record
            try write(record)
        }

        /// Whether this node has (or had) job `id`.
        public func knows(_ id: String) -> Bool {
            records[id] != nil
        }

        /// Every job, oldest first, with current usage for running ones.
        public func snapshots() -> [Snapshot] {
            checkAdopted()
            return records.values.sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }.map(snapshot)
        }

        public func snapshot(_ id: String) throws(Failure) -> Snapshot {
            guard let record = records[id] else { throw unknown(id) }
            return snapshot(record)
        }

        private func snapshot(_ record: Record) -> Snapshot {
            let pid = initPID[record.id]
            let usage = pid.flatMap { Usage.read(initPID: $0) } ?? Usage(cpuSeconds: record.cpuSecondsAtEnd ?? 0)
            return Snapshot(record: record, usage: usage, namespacePID: pid.flatMap(Self.namespacePID) ?? 0)
        }

        /// Running jobs, for the load this node publishes (called every second).
        public func runningCount() -> Int {
            checkAdopted()
            return records.values.count { $0.state == .running }
        }

        /// Adopted jobs whose init has gone: ended, status unknown (or killed, if we killed it).
        private func checkAdopted() {
            for id in adopted {
                guard let pid = initPID[id], !Self.isAlive(pid, startTicks: records[id]?.hostPIDStart),
                      var record = records[id] else { continue }
                adopted.remove(id)
                initPID[id] = nil
                record.state = killed.remove(id) != nil ? .killed(SIGKILL) : .failed("ended while adopted by a restarted agent; exit status unknown")
                record.endedAt = UInt64(time(nil))
                records[id] = record
                try? write(record)
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
        public func kill(_ id: String, by uid: UInt32) throws(Failure) -> Record {
            guard let record = records[id] else { throw unknown(id) }
            guard uid == 0 || uid == record.uid else {
                throw Failure(description: "job \(id) belongs to \(record.owner); only they or root can kill it")
            }
            guard record.state == .running, let pid = initPID[id] else {
                throw Failure(description: "job \(id) is not running (\(record.state.name))")
            }
            guard !migrating.contains(id) else {
                throw Failure(description: "job \(id) is migrating; kill it when it has arrived")
            }
            killed.insert(id)
            guard Glibc.kill(pid, SIGKILL) == 0 else {
                killed.remove(id)
                throw Failure(description: "cannot kill job \(id) (pid \(pid)): \(String(cString: strerror(errno)))")
            }
            return record
        }

        /// Up to `limit` bytes of each output file from the given offsets.
        public func output(_ id: String, stdout: UInt64, stderr: UInt64, limit: Int = 256 * 1024) throws(Failure) -> (stdout: [UInt8], stderr: [UInt8], job: Snapshot) {
            guard let record = records[id] else { throw unknown(id) }
            let job = snapshot(record)
            return (Self.read(layout.stdout(id), from: stdout, limit: limit), Self.read(layout.stderr(id), from: stderr, limit: limit), job)
        }

        private func unknown(_ id: String) -> Failure {
            Failure(description: "no job \(id) on \(hostname); `cluster ps` lists the jobs")
        }

        private func write(_ record: Record) throws(Failure) {
            let path = layout.record(record.id)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let data = try? encoder.encode(record) else { throw Failure(description: "cannot encode job \(record.id)") }
            let temporary = path + ".tmp"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw Failure(description: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
            let written = data.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            guard written == data.count, rename(temporary, path) == 0 else {
                throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))")
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
