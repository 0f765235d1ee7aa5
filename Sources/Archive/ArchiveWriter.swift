import CArchive
import Filesystem

extension Archive {
    /// Output formats we write.
    public enum Format: Sendable {
        /// `cpio -H newc`, the format the kernel unpacks as an initramfs.
        case cpioNewc
        /// POSIX pax (restricted): ustar where it fits, pax headers for xattrs and long names.
        case pax
    }

    /// Output compression, with the level where the filter takes one.
    public enum Filter: Sendable {
        case none
        case gzip(level: Int)
        case xz(level: Int)
        case zstd(level: Int)
    }

    /// Writes entries into an archive file. Conforms to `EntrySink`, so any entry source can be
    /// streamed into it. Inode numbers are assigned in order of arrival, so the output depends
    /// only on the entries. Owns one `struct archive *`; call `finish()` to flush and close.
    public final class Writer: EntrySink {
        private let handle: OpaquePointer
        private let destination: String
        private var nextInode: Int64 = 1
        private var finished = false

        public init(path: String, format: Format, filter: Filter) throws(Archive.Error) {
            guard let handle = archive_write_new() else {
                throw Archive.Error(operation: "creating \(path)", message: "out of memory")
            }
            self.handle = handle
            self.destination = path
            switch format {
            case .cpioNewc: try Archive.check(archive_write_set_format_cpio_newc(handle), handle, "selecting cpio")
            case .pax: try Archive.check(archive_write_set_format_pax_restricted(handle), handle, "selecting pax")
            }
            switch filter {
            case .none:
                break
            case .gzip(let level):
                try Archive.check(archive_write_add_filter_gzip(handle), handle, "selecting gzip")
                try Archive.check(archive_write_set_filter_option(handle, "gzip", "compression-level", String(level)), handle, "gzip level")
                // No timestamp in the gzip header: the output depends only on the entries.
                try Archive.check(archive_write_set_filter_option(handle, "gzip", "timestamp", nil), handle, "gzip timestamp")
            case .xz(let level):
                try Archive.check(archive_write_add_filter_xz(handle), handle, "selecting xz")
                try Archive.check(archive_write_set_filter_option(handle, "xz", "compression-level", String(level)), handle, "xz level")
            case .zstd(let level):
                try Archive.check(archive_write_add_filter_zstd(handle), handle, "selecting zstd")
                try Archive.check(archive_write_set_filter_option(handle, "zstd", "compression-level", String(level)), handle, "zstd level")
            }
            // Pad to 512 bytes rather than 10 KiB blocks: the kernel and cpio do not care.
            archive_write_set_bytes_in_last_block(handle, 1)
            try Archive.check(archive_write_open_filename(handle, path), handle, "creating \(path)")
        }

        deinit {
            if !finished { archive_write_close(handle) }
            archive_write_free(handle)
        }

        public func add(_ entry: FileEntry, contents: ContentsProducer) throws {
            guard let header = archive_entry_new() else {
                throw Archive.Error(operation: "writing \(destination)", message: "out of memory")
            }
            defer { archive_entry_free(header) }
            archive_entry_set_pathname(header, entry.path.isEmpty ? "." : entry.path)
            archive_entry_set_perm(header, mode_t(entry.permissions))
            archive_entry_set_uid(header, Int64(entry.uid))
            archive_entry_set_gid(header, Int64(entry.gid))
            archive_entry_set_mtime(header, time_t(entry.mtime), 0)
            archive_entry_set_size(header, 0)
            archive_entry_set_ino64(header, nextInode)
            archive_entry_set_nlink(header, entry.kind == .directory ? 2 : 1)
            nextInode += 1
            switch entry.kind {
            case .hardlink:
                archive_entry_set_hardlink(header, entry.linkTarget ?? "")
            case .symlink:
                archive_entry_set_filetype(header, UInt32(FileType.symlink))
                archive_entry_set_symlink(header, entry.linkTarget ?? "")
            case .regular:
                archive_entry_set_filetype(header, UInt32(FileType.regular))
                archive_entry_set_size(header, Int64(entry.size))
            case .directory:
                archive_entry_set_filetype(header, UInt32(FileType.directory))
            case .characterDevice, .blockDevice:
                archive_entry_set_filetype(header, UInt32(entry.kind == .characterDevice ? FileType.characterDevice : FileType.blockDevice))
                archive_entry_set_rdevmajor(header, dev_t(entry.deviceMajor))
                archive_entry_set_rdevminor(header, dev_t(entry.deviceMinor))
            case .fifo:
                archive_entry_set_filetype(header, UInt32(FileType.fifo))
            case .socket:
                archive_entry_set_filetype(header, UInt32(FileType.socket))
            }
            for xattr in entry.xattrs {
                xattr.value.withUnsafeBytes { archive_entry_xattr_add_entry(header, xattr.name, $0.baseAddress, $0.count) }
            }
            try Archive.check(archive_write_header(handle, header), handle, "writing \(entry.path) to \(destination)")
            guard entry.kind == .regular else { return }
            var written: UInt64 = 0
            try contents { chunk in
                guard chunk.count > 0 else { return }
                let n = archive_write_data(handle, chunk.baseAddress, chunk.count)
                if n < 0 {
                    throw Archive.Error(operation: "writing \(entry.path) to \(destination)", message: Archive.lastError(handle))
                }
                written += UInt64(chunk.count)
            }
            if written != entry.size {
                throw Archive.Error(operation: "writing \(entry.path) to \(destination)",
                                    message: "expected \(entry.size) bytes of contents, got \(written)")
            }
        }

        /// Flushes the compressor and closes the file; throws if that fails.
        public func finish() throws(Archive.Error) {
            guard !finished else { return }
            finished = true
            try Archive.check(archive_write_close(handle), handle, "finishing \(destination)")
        }
    }
}
