import Filesystem
#if canImport(Glibc)
import Glibc
#endif

/// A directory on the build host (an overlay) as an entry source: walked in sorted order, owned
/// by root, modes normalised to what git keeps (0755 for directories and executables, 0644 for
/// the rest) and times set to the build's epoch, so the image does not depend on the checkout.
public struct DirectorySource: EntrySource {
    public var root: String
    public var mtime: Int64

    public init(root: String, mtime: Int64) {
        self.root = root
        self.mtime = mtime
    }

    public func write(to sink: EntrySink) throws {
        try walk(relative: "", sink: sink)
    }

    private func walk(relative: String, sink: EntrySink) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        for name in try Self.list(directory) {
            let path = FilePath.join(relative, name)
            let full = root + "/" + path
            var info = stat()
            guard lstat(full, &info) == 0 else {
                throw LiveBuildError(code: .input, message: "cannot read \(full): \(Self.errnoText())")
            }
            let type = info.st_mode & S_IFMT
            switch type {
            case S_IFDIR:
                try sink.add(FileEntry(path: path, kind: .directory, permissions: 0o755, mtime: mtime))
                try walk(relative: path, sink: sink)
            case S_IFREG:
                let executable = info.st_mode & 0o111 != 0
                let entry = FileEntry(path: path, kind: .regular, permissions: executable ? 0o755 : 0o644,
                                      mtime: mtime, size: UInt64(info.st_size))
                try sink.add(entry) { yield in try Self.read(full, into: yield) }
            case S_IFLNK:
                try sink.add(FileEntry(path: path, kind: .symlink, permissions: 0o777, mtime: mtime,
                                       linkTarget: try Self.readLink(full)))
            default:
                throw LiveBuildError(
                    code: .input,
                    message: "\(full) is a device, fifo or socket; overlays hold files, directories and symlinks only (create special files with `files` or in the base)")
            }
        }
    }

    static func list(_ directory: String) throws -> [String] {
        guard let handle = opendir(directory) else {
            throw LiveBuildError(code: .input, message: "cannot list overlay directory \(directory): \(errnoText())")
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func read(_ path: String, into yield: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LiveBuildError(code: .input, message: "cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n == 0 { return }
            if n < 0 {
                if errno == EINTR { continue }
                throw LiveBuildError(code: .input, message: "cannot read \(path): \(errnoText())")
            }
            try yield(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    static func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buffer, 4096)
        guard n >= 0 else { throw LiveBuildError(code: .input, message: "cannot read link \(path): \(errnoText())") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
