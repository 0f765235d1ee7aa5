import Glibc

extension Jobs {
    /// How fast a job writes its memory, from the kernel's soft-dirty bits: writing `4` to
    /// /proc/PID/clear_refs clears them, and each page written since has bit 55 set in
    /// /proc/PID/pagemap (Documentation/admin-guide/mm/soft-dirty.rst). The balancer uses the
    /// rate to predict how long a move would keep the job frozen (Docs/balancing.md).
    ///
    /// CRIU's pre-copy reads and clears the same bits (`--track-mem`): the ``Supervisor`` never
    /// samples a job while it migrates, and both run inside the Supervisor's actor, so a move
    /// cannot begin between a sample's read and its clear.
    public enum DirtyPages {
        public static let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        /// Pages read from one process's pagemap per sample at most (16 GiB of 4 KiB pages,
        /// 32 MiB of pagemap): bounds a sample's time; a larger job is counted in part.
        public static let maximumPages: UInt64 = 1 << 22
        static let softDirty: UInt64 = 1 << 55

        /// One writable mapping of /proc/PID/maps: [start, end) in bytes.
        public struct Range: Sendable, Equatable {
            public var start: UInt64
            public var end: UInt64

            public init(start: UInt64, end: UInt64) {
                self.start = start
                self.end = end
            }
        }

        /// The writable mappings of a /proc/PID/maps text (what a job can dirty), except the
        /// kernel's [vsyscall] page. Lines that do not parse are skipped.
        public static func writableRanges(maps: String) -> [Range] {
            var ranges: [Range] = []
            for line in maps.split(separator: "\n") {
                let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
                guard fields.count >= 2, fields[1].count == 4, fields[1].dropFirst().first == "w" else { continue }
                if fields.count == 6, fields[5].hasPrefix("[vsyscall]") { continue }
                let bounds = fields[0].split(separator: "-")
                guard bounds.count == 2, let start = UInt64(bounds[0], radix: 16), let end = UInt64(bounds[1], radix: 16), end > start else { continue }
                ranges.append(Range(start: start, end: end))
            }
            return ranges
        }

        /// Pagemap entries with the soft-dirty bit set.
        public static func dirtyCount(_ entries: UnsafeBufferPointer<UInt64>) -> UInt64 {
            var count: UInt64 = 0
            for entry in entries where entry & softDirty != 0 { count += 1 }
            return count
        }

        /// Whether this kernel keeps soft-dirty bits (CONFIG_MEM_SOFT_DIRTY; Debian's does, some
        /// cloud kernels do not): a page this process has just written must show one.
        public static let isSupported: Bool = {
            let size = Int(pageSize)
            guard let page = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), page != MAP_FAILED else { return false }
            defer { munmap(page, size) }
            page.storeBytes(of: 1, as: UInt8.self)
            let pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
            guard pagemap >= 0 else { return false }
            defer { close(pagemap) }
            var entry: UInt64 = 0
            let offset = off_t(UInt64(UInt(bitPattern: page)) / pageSize * 8)
            guard pread(pagemap, &entry, 8, offset) == 8 else { return false }
            return entry & softDirty != 0
        }()

        /// Bytes of process `pid` written since its bits were last cleared (nil: the process is
        /// gone, its pagemap unreadable, or the kernel keeps no soft-dirty bits), then clears them.
        public static func sample(pid: pid_t) -> UInt64? {
            guard isSupported else { return nil }
            guard let maps = ProcFiles.read("/proc/\(pid)/maps") else { return nil }
            let pagemap = open("/proc/\(pid)/pagemap", O_RDONLY | O_CLOEXEC)
            guard pagemap >= 0 else { return nil }
            defer { close(pagemap) }
            var dirty: UInt64 = 0
            var budget = maximumPages
            let chunk = 1 << 16
            var entries = [UInt64](repeating: 0, count: chunk)
            for range in writableRanges(maps: maps) where budget > 0 {
                var page = range.start / pageSize
                let end = min(range.end / pageSize, page + budget)
                budget -= end - page
                while page < end {
                    let want = Int(min(UInt64(chunk), end - page))
                    let got = entries.withUnsafeMutableBytes { pread(pagemap, $0.baseAddress, want * 8, off_t(page * 8)) }
                    guard got > 0 else { break }
                    let count = got / 8
                    dirty += entries.withUnsafeBufferPointer { dirtyCount(UnsafeBufferPointer(rebasing: $0[0..<count])) }
                    page += UInt64(count)
                }
            }
            let clear = open("/proc/\(pid)/clear_refs", O_WRONLY | O_CLOEXEC)
            guard clear >= 0 else { return nil }
            defer { close(clear) }
            guard write(clear, "4", 1) == 1 else { return nil }
            return dirty * pageSize
        }
    }
}
