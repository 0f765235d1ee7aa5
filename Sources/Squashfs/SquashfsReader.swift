import CSquashfs

extension Squashfs {
    /// Reads files and directories of a squashfs image through libsquashfs: the superblock,
    /// the directory tree by path, and file contents (for `livebuild inspect`). One reader,
    /// one thread: not Sendable.
    public final class Reader {
        /// What the superblock says.
        public struct Superblock: Sendable, Equatable {
            public var compression: String
            public var blockSize: UInt32
            public var inodeCount: UInt32
            public var bytesUsed: UInt64
            public var modificationTime: UInt32
        }

        /// One directory entry.
        public struct Entry: Sendable, Equatable {
            public enum Kind: Sendable, Equatable { case file, directory, symlink, other }
            public var name: String
            public var kind: Kind
        }

        public let path: String
        public let superblock: Superblock
        private let file: UnsafeMutablePointer<sqfs_file_t>
        private let compressor: UnsafeMutablePointer<sqfs_compressor_t>
        private let directories: OpaquePointer
        private let data: OpaquePointer
        /// libsquashfs's directory reader keeps a pointer to the superblock: it lives here.
        private let superPointer: UnsafeMutablePointer<sqfs_super_t>

        /// Opens `path`; throws when it is not a squashfs image libsquashfs can read.
        public init(path: String) throws(Squashfs.Error) {
            self.path = path
            guard let file = sqfs_open_file(path, UInt32(SQFS_FILE_OPEN_READ_ONLY.rawValue)) else {
                throw Squashfs.Error.failed("opening \(path)", Int32(SQFS_ERROR_IO.rawValue))
            }
            let superPointer = UnsafeMutablePointer<sqfs_super_t>.allocate(capacity: 1)
            superPointer.initialize(to: sqfs_super_t())
            let status = sqfs_super_read(superPointer, file)
            let superblock = superPointer.pointee
            guard status == 0 else {
                superPointer.deallocate()
                sqfs_destroy(file)
                throw Squashfs.Error.failed("reading the superblock of \(path) (not a squashfs image, or a damaged one)", status)
            }
            var config = sqfs_compressor_config_t()
            var compressor: UnsafeMutablePointer<sqfs_compressor_t>?
            var result = sqfs_compressor_config_init(&config, SQFS_COMPRESSOR(UInt32(superblock.compression_id)), Int(superblock.block_size), UInt16(SQFS_COMP_FLAG_UNCOMPRESS.rawValue))
            if result == 0 { result = sqfs_compressor_create(&config, &compressor) }
            guard result == 0, let compressor else {
                superPointer.deallocate()
                sqfs_destroy(file)
                throw Squashfs.Error.failed("creating a decompressor for \(path) (compressor id \(superblock.compression_id))", result)
            }
            guard let directories = sqfs_dir_reader_create(superPointer, compressor, file, 0),
                  let data = sqfs_data_reader_create(file, Int(superblock.block_size), compressor, 0) else {
                superPointer.deallocate()
                sqfs_destroy(compressor)
                sqfs_destroy(file)
                throw Squashfs.Error.failed("creating readers for \(path)", Int32(SQFS_ERROR_ALLOC.rawValue))
            }
            result = sqfs_data_reader_load_fragment_table(data, superPointer)
            guard result == 0 else {
                superPointer.deallocate()
                sqfs_destroy(UnsafeMutableRawPointer(data))
                sqfs_destroy(UnsafeMutableRawPointer(directories))
                sqfs_destroy(compressor)
                sqfs_destroy(file)
                throw Squashfs.Error.failed("reading the fragment table of \(path) (damaged image)", result)
            }
            self.file = file
            self.compressor = compressor
            self.directories = directories
            self.data = data
            self.superPointer = superPointer
            self.superblock = Superblock(
                compression: Squashfs.Compression.allCases.first { $0.id.rawValue == UInt32(superblock.compression_id) }?.rawValue
                    ?? "id \(superblock.compression_id)",
                blockSize: superblock.block_size, inodeCount: superblock.inode_count,
                bytesUsed: superblock.bytes_used, modificationTime: superblock.modification_time)
        }

        deinit {
            sqfs_destroy(UnsafeMutableRawPointer(data))
            sqfs_destroy(UnsafeMutableRawPointer(directories))
            sqfs_destroy(compressor)
            sqfs_destroy(file)
            superPointer.deallocate()
        }

        /// The inode at `path` (relative to the root, `etc/os-release`), or nil when there is
        /// none. The caller frees it.
        private func inode(_ path: String) throws(Squashfs.Error) -> UnsafeMutablePointer<sqfs_inode_generic_t>? {
            var inode: UnsafeMutablePointer<sqfs_inode_generic_t>?
            let trimmed = String(path.drop { $0 == "/" })
            let result = sqfs_dir_reader_find_by_path(directories, nil, trimmed, &inode)
            if result == Int32(SQFS_ERROR_NO_ENTRY.rawValue) { return nil }
            guard result == 0 else { throw Squashfs.Error.failed("looking up /\(trimmed) in \(self.path)", result) }
            return inode
        }

        /// The contents of the regular file at `path`, nil when there is no such file; at most
        /// `limit` bytes.
        public func contents(_ path: String, limit: Int = 16 << 20) throws(Squashfs.Error) -> [UInt8]? {
            guard let inode = try inode(path) else { return nil }
            defer { sqfs_free(inode) }
            var size: UInt64 = 0
            guard sqfs_inode_get_file_size(inode, &size) == 0 else { return nil }
            let count = Int(min(size, UInt64(limit)))
            var bytes = [UInt8](repeating: 0, count: count)
            var offset = 0
            while offset < count {
                let read = bytes.withUnsafeMutableBytes { buffer in
                    sqfs_data_reader_read(data, inode, UInt64(offset), buffer.baseAddress! + offset, UInt32(min(count - offset, 1 << 20)))
                }
                guard read > 0 else {
                    if read < 0 { throw Squashfs.Error.failed("reading /\(path) in \(self.path)", read) }
                    break
                }
                offset += Int(read)
            }
            return Array(bytes[0..<offset])
        }

        /// The entries of the directory at `path`, nil when there is no such directory.
        public func list(_ path: String) throws(Squashfs.Error) -> [Entry]? {
            guard let inode = try inode(path) else { return nil }
            defer { sqfs_free(inode) }
            let type = Int32(inode.pointee.base.type)
            guard type == Int32(SQFS_INODE_DIR.rawValue) || type == Int32(SQFS_INODE_EXT_DIR.rawValue) else { return nil }
            var result = sqfs_dir_reader_open_dir(directories, inode, 0)
            guard result == 0 else { throw Squashfs.Error.failed("opening /\(path) in \(self.path)", result) }
            var entries: [Entry] = []
            while true {
                var entry: UnsafeMutablePointer<sqfs_dir_entry_t>?
                result = sqfs_dir_reader_read(directories, &entry)
                if result > 0 { break }
                guard result == 0, let entry else { throw Squashfs.Error.failed("reading /\(path) in \(self.path)", result) }
                defer { sqfs_free(entry) }
                // The name follows the 8-byte entry header; `size` is its length less one.
                let length = Int(entry.pointee.size) + 1
                let name = UnsafeRawPointer(entry).advanced(by: MemoryLayout<sqfs_dir_entry_t>.size)
                    .withMemoryRebound(to: UInt8.self, capacity: length) { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
                let kind: Entry.Kind
                switch Int32(entry.pointee.type) {
                case Int32(SQFS_INODE_DIR.rawValue): kind = .directory
                case Int32(SQFS_INODE_FILE.rawValue): kind = .file
                case Int32(SQFS_INODE_SLINK.rawValue): kind = .symlink
                default: kind = .other
                }
                entries.append(Entry(name: name, kind: kind))
            }
            return entries
        }
    }
}

extension Squashfs.Error {
    /// A libsquashfs call that failed with `code` while doing `operation`.
    static func failed(_ operation: String, _ code: Int32) -> Squashfs.Error {
        .library(code: code, codeName: codeName(code), operation: operation)
    }
}
