import Filesystem

/// The profile's inline `files` as an entry source.
public struct InlineFilesSource: EntrySource {
    public struct File: Sendable, Equatable {
        public var path: String
        public var content: [UInt8]
        public var permissions: UInt32
        public var uid: UInt32
        public var gid: UInt32
        /// When set, the entry is a symbolic link to this target (and `content` is empty).
        public var symlinkTarget: String?

        public init(path: String, content: [UInt8], permissions: UInt32, uid: UInt32 = 0, gid: UInt32 = 0) {
            self.path = FilePath.normalize(path)
            self.content = content
            self.permissions = permissions
            self.uid = uid
            self.gid = gid
        }

        /// A symbolic link owned by root.
        public init(symlink path: String, target: String) {
            self.init(path: path, content: [], permissions: 0o777)
            self.symlinkTarget = target
        }
    }

    public var files: [File]
    public var mtime: Int64

    public init(files: [File], mtime: Int64) {
        self.files = files
        self.mtime = mtime
    }

    public func write(to sink: EntrySink) throws {
        for file in files.sorted(by: { $0.path < $1.path }) {
            if let target = file.symlinkTarget {
                try sink.add(FileEntry(path: file.path, kind: .symlink, permissions: 0o777, uid: file.uid, gid: file.gid,
                                       mtime: mtime, linkTarget: target), bytes: [])
                continue
            }
            let entry = FileEntry(path: file.path, kind: .regular, permissions: file.permissions,
                                  uid: file.uid, gid: file.gid, mtime: mtime, size: UInt64(file.content.count))
            try sink.add(entry, bytes: file.content)
        }
    }
}
