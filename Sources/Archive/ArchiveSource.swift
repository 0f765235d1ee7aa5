import Filesystem

extension Archive {
    /// An archive file (a rootfs tar in any compression, a cpio, an OCI layer) as an entry source.
    public struct FileSource: EntrySource {
        public var path: String

        public init(path: String) { self.path = path }

        public func write(to sink: EntrySink) throws {
            let reader = try Reader(path: path)
            while let entry = try reader.next() {
                try sink.add(entry) { yield in try reader.readContents(yield) }
            }
        }
    }
}
