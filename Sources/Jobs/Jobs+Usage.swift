import Glibc

extension Jobs {
    /// What a job's processes use together: every process in its PID namespace.
    public struct Usage: Sendable, Equatable {
        /// User + system time, its reaped children's included, seconds.
        public var cpuSeconds: Double = 0
        /// Resident memory, KiB.
        public var memoryKiB: UInt64 = 0
        /// Processes in the namespace.
        public var processes = 0

        public init(cpuSeconds: Double = 0, memoryKiB: UInt64 = 0, processes: Int = 0) {
            self.cpuSeconds = cpuSeconds
            self.memoryKiB = memoryKiB
            self.processes = processes
        }

        /// Sums over the processes sharing `initPID`'s PID namespace.
        public static func read(initPID: pid_t, procRoot: String = "/proc") -> Usage? {
            guard let namespace = ProcFiles.link("\(procRoot)/\(initPID)/ns/pid") else { return nil }
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            let pageKiB = UInt64(sysconf(Int32(_SC_PAGESIZE))) / 1024
            var usage = Usage()
            for pid in processIDs(procRoot: procRoot) where ProcFiles.link("\(procRoot)/\(pid)/ns/pid") == namespace {
                guard let line = ProcFiles.read("\(procRoot)/\(pid)/stat"), let fields = StatFields(line) else { continue }
                usage.cpuSeconds += Double(fields.cpuTicks) / ticks
                usage.memoryKiB += fields.residentPages * pageKiB
                usage.processes += 1
            }
            return usage
        }

        /// Every process in `pid`'s PID namespace (host pids).
        /// The PID namespace `pid` is in (the /proc/PID/ns/pid link, `pid:[INODE]`).
        public static func pidNamespace(of pid: pid_t, procRoot: String = "/proc") -> String? {
            ProcFiles.link("\(procRoot)/\(pid)/ns/pid")
        }

        public static func processes(sharingNamespaceOf pid: pid_t, procRoot: String = "/proc") -> [pid_t] {
            guard let namespace = ProcFiles.link("\(procRoot)/\(pid)/ns/pid") else { return [] }
            return processIDs(procRoot: procRoot).filter { ProcFiles.link("\(procRoot)/\($0)/ns/pid") == namespace }
        }

        static func processIDs(procRoot: String) -> [pid_t] {
            guard let directory = opendir(procRoot) else { return [] }
            defer { closedir(directory) }
            var pids: [pid_t] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if let pid = pid_t(name) { pids.append(pid) }
            }
            return pids
        }
    }

    /// The fields of a /proc/PID/stat line the usage needs. The command name (field 2) may
    /// hold spaces and parentheses, so fields are counted from the last `)`.
    struct StatFields: Equatable {
        /// utime + stime + cutime + cstime (fields 14–17), clock ticks.
        var cpuTicks: UInt64
        /// rss (field 24), pages.
        var residentPages: UInt64
        /// starttime (field 22), clock ticks since boot.
        var startTicks: UInt64

        init?(_ line: String) {
            guard let close = line.lastIndex(of: ")") else { return nil }
            let rest = line[line.index(after: close)...].split(separator: " ")
            // rest[0] is field 3 (state): field n is rest[n - 3].
            guard rest.count > 21 else { return nil }
            let times = rest[11...14].compactMap { UInt64($0) }
            guard times.count == 4, let rss = Int64(rest[21]), let start = UInt64(rest[19]) else { return nil }
            startTicks = start
            cpuTicks = times.reduce(0, +)
            residentPages = UInt64(max(0, rss))
        }
    }
}
