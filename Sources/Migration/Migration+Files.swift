import CJobs
import Glibc

extension Migration {
    /// One entry of a directory to send: a regular file or a symbolic link (CRIU links each
    /// round's images to the previous round as `parent`).
    public struct FileEntry: Codable, Sendable, Equatable {
        public var path: String
        public var size: UInt64
        public var mode: UInt32
        public var link: String?

        public init(path: String, size: UInt64, mode: UInt32, link: String? = nil) {
            (self.path, self.size, self.mode, self.link) = (path, size, mode, link)
        }
    }

    /// Files and links directly in `directory` (CRIU's image directories are flat), by name.
    public static func entries(of directory: String) -> [FileEntry] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var entries: [FileEntry] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name != ".", name != ".." else { continue }
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                entries.append(FileEntry(path: name, size: UInt64(info.st_size), mode: UInt32(info.st_mode & 0o7777), link: nil))
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: 4096)
                let count = readlink(directory + "/" + name, &buffer, buffer.count - 1)
                guard count > 0 else { continue }
                let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                entries.append(FileEntry(path: name, size: 0, mode: 0o777, link: target))
            default:
                continue
            }
        }
        return entries.sorted { $0.path < $1.path }
    }

    /// `entries` in the order a round's images travel: first what CRIU's lazy-pages daemon
    /// reads when it starts (`inventory.img`, `pstree.img`, `ids-PID.img`), so the destination
    /// can start it while the rest arrives; the memory (`pages-*.img`) last; the rest by name.
    public static func sendingOrder(_ entries: [FileEntry]) -> [FileEntry] {
        func rank(_ name: String) -> Int {
            if name == "inventory.img" || name == "pstree.img" || name.hasPrefix("ids-") { return 0 }
            return name.hasPrefix("pages-") ? 2 : 1
        }
        return entries.sorted { (rank($0.path), $0.path) < (rank($1.path), $1.path) }
    }

    /// Bytes of memory pages in a CRIU images directory (`pages-*.img`): what a round copied.
    public static func pageBytes(in directory: String) -> UInt64 {
        entries(of: directory).filter { $0.path.hasPrefix("pages-") }.reduce(0) { $0 + $1.size }
    }

    /// `mkdir -p`.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700) -> Bool {
        var built = ""
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, mode) != 0 && errno != EEXIST { return false }
        }
        return true
    }

    /// `rm -rf` of a directory tree this agent made.
    public static func remove(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            if let handle = opendir(path) {
                var names: [String] = []
                while let entry = readdir(handle) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(handle)
                for name in names { remove(path + "/" + name) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

extension Migration {
    /// NFS's f_type: files there are visible from every node and need not travel.
    static let nfsMagic = 0x6969

    /// Regular files the processes hold open (from /proc/PID/fd), outside /proc, /sys and
    /// /dev and not on NFS, each once.
    public static func openRegularFiles(of pids: [Int32], procRoot: String = "/proc") -> [String] {
        var paths = Set<String>()
        for pid in pids {
            let fdDirectory = "\(procRoot)/\(pid)/fd"
            for entry in entries(of: fdDirectory) {
                guard let target = entry.link, target.hasPrefix("/"), !target.hasSuffix(" (deleted)") else { continue }
                var info = stat()
                guard stat(fdDirectory + "/" + entry.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
                if ["/proc/", "/sys/", "/dev/"].contains(where: { target.hasPrefix($0) }) { continue }
                if cjobs_filesystem_type(target) == nfsMagic { continue }
                paths.insert(target)
            }
        }
        return paths.sorted()
    }
}

extension Migration.Images {
    /// Whether the images in `directory` hold what CRIU's lazy-pages daemon reads when it
    /// starts: `inventory.img`, `pstree.img` and the `ids-PID.img` of each process in it. Only
    /// a full dump writes `pstree.img`, so of a pre-copy's rounds only the final one has it.
    public static func holdsProcessTree(_ directory: String) -> Bool {
        guard access(directory + "/inventory.img", R_OK) == 0 else { return false }
        let descriptor = open(directory + "/pstree.img", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        // A process tree of the most processes Images.processes takes is far below 1 MiB.
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count <= 1 << 20 {
            let got = read(descriptor, &buffer, buffer.count)
            if got <= 0 { break }
            bytes += buffer[0..<got]
        }
        guard bytes.count <= 1 << 20, let pids = try? processes(pstree: bytes), !pids.isEmpty else { return false }
        return pids.allSatisfy { access(directory + "/ids-\($0).img", R_OK) == 0 }
    }
}
