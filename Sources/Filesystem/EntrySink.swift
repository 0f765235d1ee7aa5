/// Feeds the contents of one regular file, chunk by chunk, to the closure it is given.
/// A sink that does not need the contents simply never calls it.
public typealias ContentsProducer = ((UnsafeRawBufferPointer) throws -> Void) throws -> Void

/// Something that consumes a stream of filesystem entries: the squashfs writer, a tar writer,
/// a filter in front of either. Entries may come in any order; a directory may arrive after
/// its children (its parents are then created implicitly and completed when it arrives).
public protocol EntrySink: AnyObject {
    /// Adds one entry. For `.regular` entries, `contents` yields exactly `entry.size` bytes.
    func add(_ entry: FileEntry, contents: ContentsProducer) throws
}

extension EntrySink {
    /// Adds an entry with no contents (directories, links, devices, empty files).
    public func add(_ entry: FileEntry) throws {
        try add(entry) { _ in }
    }

    /// Adds a regular file whose contents are in memory.
    public func add(_ entry: FileEntry, bytes: [UInt8]) throws {
        try add(entry) { yield in
            try bytes.withUnsafeBytes { try yield($0) }
        }
    }
}

/// Something that produces a stream of filesystem entries into a sink.
public protocol EntrySource {
    func write(to sink: EntrySink) throws
}
