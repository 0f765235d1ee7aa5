import CArchive
import Filesystem

extension Archive {
    /// Reads an archive (any format and compression libarchive supports) entry by entry.
    /// Owns one `struct archive *` and frees it in `deinit`.
    public final class Reader {
        private let handle: OpaquePointer
        private let source: String
        private var memory: UnsafeMutableRawBufferPointer?
        private var buffer: UnsafeMutableRawBufferPointer

        /// Opens a file. `raw` reads a single compressed stream (`.xz`, `.zst`, ...) as one entry.
        public init(path: String, raw: Bool = false) throws(Archive.Error) {
            guard let handle = archive_read_new() else {
                throw Archive.Error(operation: "opening \(path)", message: "out of memory")
            }
            self.handle = handle
            self.source = path
            self.buffer = .allocate(byteCount: 1 << 20, alignment: 16)
            try configure(raw: raw)
            try Archive.check(archive_read_open_filename(handle, path, 1 << 20), handle, "opening \(path)")
        }

        /// Reads from bytes in memory (copied, so the caller's buffer need not outlive the reader).
        public init(bytes: some Collection<UInt8>, name: String = "<memory>", raw: Bool = false) throws(Archive.Error) {
            guard let handle = archive_read_new() else {
                throw Archive.Error(operation: "opening \(name)", message: "out of memory")
            }
            self.handle = handle
            self.source = name
            self.buffer = .allocate(byteCount: 1 << 20, alignment: 16)
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
            _ = copy.initializeMemory(as: UInt8.self, from: bytes)
            self.memory = copy
            try configure(raw: raw)
            try Archive.check(archive_read_open_memory(handle, copy.baseAddress, bytes.count), handle, "opening \(name)")
        }

        private func configure(raw: Bool) throws(Archive.Error) {
            try Archive.check(archive_read_support_filter_all(handle), handle, "configuring reader")
            if raw {
                try Archive.check(archive_read_support_format_raw(handle), handle, "configuring reader")
            } else {
                try Archive.check(archive_read_support_format_all(handle), handle, "configuring reader")
            }
        }

        deinit {
            archive_read_free(handle)
            buffer.deallocate()
            memory?.deallocate()
        }

        /// The next entry's header, or `nil` at the end. Unread contents of the previous entry
        /// are skipped.
        public func next() throws(Archive.Error) -> FileEntry? {
            var entry: OpaquePointer?
            let status = archive_read_next_header(handle, &entry)
            if status == Status.eof { return nil }
            try Archive.check(status, handle, "reading \(source)")
            guard let entry else { return nil }
            return Archive.fileEntry(from: entry)
        }

        /// Feeds the current entry's contents to `body`, chunk by chunk.
        public func readContents(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
            while true {
                let count = archive_read_data(handle, buffer.baseAddress, buffer.count)
                if count == 0 { return }
                if count < 0 {
                    throw Archive.Error(operation: "reading \(source)", message: Archive.lastError(handle), code: archive_errno(handle))
                }
                try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
        }

        /// The current entry's contents as bytes (for small files: configs, modules).
        public func readAll() throws -> [UInt8] {
            var out: [UInt8] = []
            try readContents { out.append(contentsOf: $0) }
            return out
        }
    }

    /// Decompresses one compressed stream (xz, zstd, gzip, ...) held in memory, as for `.ko.xz`.
    public static func decompress(_ bytes: [UInt8], name: String = "<memory>") throws -> [UInt8] {
        let reader = try Reader(bytes: bytes, name: name, raw: true)
        guard try reader.next() != nil else { return [] }
        return try reader.readAll()
    }

    /// Converts a libarchive entry header into a `FileEntry` (path normalised).
    static func fileEntry(from entry: OpaquePointer) -> FileEntry {
        let path = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        let type = UInt32(archive_entry_filetype(entry))
        var kind: FileEntry.Kind
        var linkTarget: String?
        if let hardlink = archive_entry_hardlink(entry) {
            kind = .hardlink
            linkTarget = FilePath.normalize(String(cString: hardlink))
        } else {
            switch type & FileType.mask {
            case FileType.directory: kind = .directory
            case FileType.symlink: kind = .symlink
            case FileType.characterDevice: kind = .characterDevice
            case FileType.blockDevice: kind = .blockDevice
            case FileType.fifo: kind = .fifo
            case FileType.socket: kind = .socket
            default: kind = .regular
            }
            if kind == .symlink {
                linkTarget = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
            }
        }
        var xattrs: [Xattr] = []
        if archive_entry_xattr_reset(entry) > 0 {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(entry, &name, &value, &size) == Status.ok {
                // pax archives may carry one attribute twice (SCHILY.xattr and LIBARCHIVE.xattr).
                guard let name, !xattrs.contains(where: { $0.name == String(cString: name) }) else { continue }
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                xattrs.append(Xattr(name: String(cString: name), value: bytes))
            }
        }
        return FileEntry(
            path: FilePath.normalize(path),
            kind: kind,
            permissions: UInt32(archive_entry_perm(entry)),
            uid: UInt32(truncatingIfNeeded: archive_entry_uid(entry)),
            gid: UInt32(truncatingIfNeeded: archive_entry_gid(entry)),
            mtime: Int64(archive_entry_mtime(entry)),
            size: kind == .regular ? UInt64(max(0, archive_entry_size(entry))) : 0,
            linkTarget: linkTarget,
            deviceMajor: UInt32(archive_entry_rdevmajor(entry)),
            deviceMinor: UInt32(archive_entry_rdevminor(entry)),
            xattrs: xattrs
        )
    }
}
