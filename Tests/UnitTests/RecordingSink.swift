import Filesystem

/// A sink that keeps what it is given, first entry per path winning like the squashfs writer.
final class RecordingSink: EntrySink {
    var order: [String] = []
    var entries: [String: FileEntry] = [:]
    var contents: [String: [UInt8]] = [:]

    func add(_ entry: FileEntry, contents producer: ContentsProducer) throws {
        guard entries[entry.path] == nil else { return }
        order.append(entry.path)
        entries[entry.path] = entry
        var bytes: [UInt8] = []
        try producer { bytes.append(contentsOf: $0) }
        contents[entry.path] = bytes
    }

    func text(_ path: String) -> String? { contents[path].map { String(decoding: $0, as: UTF8.self) } }
}

/// An in-memory entry source for tests.
struct ListSource: EntrySource {
    var items: [(FileEntry, [UInt8])]

    init(_ items: [(FileEntry, [UInt8])]) { self.items = items }

    func write(to sink: EntrySink) throws {
        for (entry, bytes) in items { try sink.add(entry, bytes: bytes) }
    }

    static func file(_ path: String, _ text: String, mode: UInt32 = 0o644, uid: UInt32 = 0) -> (FileEntry, [UInt8]) {
        let bytes = Array(text.utf8)
        return (FileEntry(path: path, kind: .regular, permissions: mode, uid: uid, size: UInt64(bytes.count)), bytes)
    }

    static func directory(_ path: String, mode: UInt32 = 0o755) -> (FileEntry, [UInt8]) {
        (FileEntry(path: path, kind: .directory, permissions: mode), [])
    }
}
