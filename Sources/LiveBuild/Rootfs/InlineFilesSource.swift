import Filesystem

/// The profile's inline `files` as an entry source.
public struct InlineFilesSource: EntrySource {
    public struct File: Sendable, Equatable {
        public var path: String
        public var content: [UInt8]
        public var permissions: UInt32
        public var uid: UInt32
        public var gid: UInt32

        public init(path: String, content: [UInt8], permissions: UInt32, uid: UInt32 = 0, gid: UInt32 = 0) {
            self.path = FilePath.normalize(path)
            self.content = content
            self.permissions = permissions
            self.uid = uid
            self.gid = gid
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
            let entry = FileEntry(path: file.path, kind: .regular, permissions: file.permissions,
                                  uid: file.uid, gid: file.gid, mtime: mtime, size: UInt64(file.content.count))
            try sink.add(entry, bytes: file.content)
        }
    }
}
