import CSquashfs
import Filesystem

#if canImport(Glibc)
import Glibc
#endif

extension Squashfs {
    /// Writes a squashfs image from a stream of entries, in process, through libsquashfs.
    ///
    /// Regular file contents go straight into libsquashfs's block processor as they arrive
    /// (compressed on `options.threads` workers, deduplicated, tails packed into fragments);
    /// only metadata stays in memory. `finish()` then writes inodes, directories and tables.
    /// Entries may come in any order; see `Tree` for how duplicates and implicit parents merge.
    ///
    /// The same entries in the same order with the same options give a byte-identical image.
    /// If `finish()` is never called or anything throws, the partial file is left for the
    /// caller to delete; the writer frees all its libsquashfs objects either way.
    public final class Writer: EntrySink {
        /// Where the image is written.
        public let path: String
        public let options: Options

        let tree: Tree
        var superblock = sqfs_super_t()
        var skippedXattrs = 0
        var state: State = .open

        enum State: Equatable {
            case open, finished
            case failed(String)
        }

        // libsquashfs objects, owned here and destroyed in `releaseHandles()` in dependency order.
        var file: UnsafeMutablePointer<sqfs_file_t>?
        var compressor: UnsafeMutablePointer<sqfs_compressor_t>?
        var decompressor: UnsafeMutablePointer<sqfs_compressor_t>?
        var blockWriter: UnsafeMutablePointer<sqfs_block_writer_t>?
        var fragmentTable: OpaquePointer?
        var processor: OpaquePointer?
        var idTable: OpaquePointer?
        var xattrWriter: OpaquePointer?
        var inodeMeta: OpaquePointer?
        var directoryMeta: OpaquePointer?
        var directoryWriter: OpaquePointer?

        /// Creates (or truncates) the image at `path` and starts the compression workers.
        public init(path: String, options: Options = Options()) throws {
            try options.validate()
            self.path = path
            self.options = options
            self.tree = Tree(implicitTime: UInt32(options.modificationTime))
            try open()
        }

        deinit {
            releaseHandles()
        }

        private func open() throws(Error) {
            var config = sqfs_compressor_config_t()
            try check(sqfs_compressor_config_init(
                &config, options.compression.id, Int(options.blockSize), 0),
                "configuring the \(options.compression.rawValue) compressor")
            if let level = options.level {
                if options.compression == .lz4 {
                    config.flags |= UInt16(SQFS_COMP_FLAG_LZ4_HC.rawValue)
                } else {
                    config.level = level
                }
            }

            guard let file = sqfs_open_file(path, UInt32(SQFS_FILE_OPEN_OVERWRITE.rawValue)) else {
                let code = errno
                throw .cannotOpen(path: path, errno: code, message: String(cString: strerror(code)))
            }
            self.file = file

            // libsquashfs has every compressor but LZO; that one comes from `LzoCompressor`.
            func create(_ config: sqfs_compressor_config_t, _ out: inout UnsafeMutablePointer<sqfs_compressor_t>?) -> Int32 {
                if options.compression == .lzo { return LzoCompressor.create(config, &out) }
                var config = config
                return sqfs_compressor_create(&config, &out)
            }
            var compressor: UnsafeMutablePointer<sqfs_compressor_t>?
            try check(create(config, &compressor),
                      "creating the \(options.compression.rawValue) compressor for \(path)")
            self.compressor = compressor
            config.flags |= UInt16(SQFS_COMP_FLAG_UNCOMPRESS.rawValue)
            var decompressor: UnsafeMutablePointer<sqfs_compressor_t>?
            try check(create(config, &decompressor),
                      "creating the \(options.compression.rawValue) decompressor for \(path)")
            self.decompressor = decompressor
            let cmp = try created(compressor, "creating the compressor for \(path)")

            try check(sqfs_super_init(
                &superblock, Int(options.blockSize), UInt32(options.modificationTime),
                options.compression.id), "initialising the superblock of \(path)")
            try check(sqfs_super_write(&superblock, file), "writing the superblock of \(path)")
            guard let writeOptions = cmp.pointee.write_options else {
                throw failure(SQFS_ERROR_INTERNAL, "writing compressor options: the compressor has no writer")
            }
            if try check(writeOptions(cmp, file), "writing the compressor options of \(path)") > 0 {
                superblock.flags |= UInt16(SQFS_FLAG_COMPRESSOR_OPTIONS.rawValue)
            }

            blockWriter = try created(sqfs_block_writer_create(file, Int(SQFS_DEVBLK_SIZE), 0),
                                      "creating the block writer")
            fragmentTable = try created(sqfs_frag_table_create(0), "creating the fragment table")

            var description = sqfs_block_processor_desc_t()
            description.size = UInt32(MemoryLayout<sqfs_block_processor_desc_t>.size)
            description.max_block_size = UInt32(options.blockSize)
            description.num_workers = UInt32(options.threads)
            description.max_backlog = UInt32(options.threads * 10)
            description.cmp = cmp
            description.wr = blockWriter
            description.tbl = fragmentTable
            // With the file and a decompressor, fragment deduplication compares bytes, not
            // just hashes, exactly as tar2sqfs does.
            description.file = file
            description.uncmp = decompressor
            var processor: OpaquePointer?
            try check(sqfs_block_processor_create_ex(&description, &processor),
                      "starting \(options.threads) compression workers")
            self.processor = processor

            idTable = try created(sqfs_id_table_create(0), "creating the id table")
            xattrWriter = try created(sqfs_xattr_writer_create(0), "creating the xattr writer")
            inodeMeta = try created(sqfs_meta_writer_create(file, cmp, 0), "creating the inode table writer")
            let directoryMeta = try created(
                sqfs_meta_writer_create(file, cmp, UInt32(SQFS_META_WRITER_KEEP_IN_MEMORY.rawValue)),
                "creating the directory table writer")
            self.directoryMeta = directoryMeta
            let flags = options.exportable ? UInt32(SQFS_DIR_WRITER_CREATE_EXPORT_TABLE.rawValue) : 0
            directoryWriter = try created(sqfs_dir_writer_create(directoryMeta, flags),
                                          "creating the directory writer")
        }

        /// Adds one entry. Regular file contents are read and compressed right away; the first
        /// entry for a path wins and later ones are dropped without reading their contents.
        /// A `.hardlink` shares its target's inode (owner, mode, times, xattrs are the target's);
        /// the target may arrive later, and a link that cannot be resolved fails `finish()`.
        /// After any error the writer refuses further calls.
        public func add(_ entry: FileEntry, contents: ContentsProducer) throws {
            switch state {
            case .open: break
            case .finished: throw Error.notWritable("\(path) is already finished")
            case .failed(let reason): throw Error.notWritable("an earlier error: \(reason)")
            }
            do {
                switch tree.insert(entry) {
                case .ignored:
                    return
                case .completed(let node):
                    try recordXattrs(entry.xattrs, of: node)
                case .inserted(let node):
                    if entry.kind != .hardlink {
                        try recordXattrs(entry.xattrs, of: node)
                    }
                    if entry.kind == .regular {
                        try storeContents(of: entry, in: node, contents: contents)
                    }
                }
            } catch {
                state = .failed("\(error)")
                throw error
            }
        }

        /// Streams one file's contents into the block processor.
        private func storeContents(of entry: FileEntry, in node: Node, contents: ContentsProducer) throws {
            guard let processor else { throw Error.notWritable("no block processor") }
            let cell = InodeCell()
            node.cell = cell
            try check(sqfs_block_processor_begin_file(processor, cell.slot, nil, 0),
                      "starting file \(entry.path)")
            var written: UInt64 = 0
            do {
                try contents { chunk in
                    guard let base = chunk.baseAddress, !chunk.isEmpty else { return }
                    try check(sqfs_block_processor_append(processor, base, chunk.count),
                              "storing the contents of \(entry.path)")
                    written += UInt64(chunk.count)
                }
            } catch {
                _ = sqfs_block_processor_end_file(processor)
                throw error
            }
            try check(sqfs_block_processor_end_file(processor), "finishing file \(entry.path)")
            guard written == entry.size else {
                throw Error.sizeMismatch(path: entry.path, expected: entry.size, actual: written)
            }
        }

        /// Destroys every libsquashfs object, users before what they use. Safe to call twice.
        func releaseHandles() {
            func destroy(_ pointer: UnsafeMutableRawPointer?) {
                if let pointer { sqfs_destroy(pointer) }
            }
            destroy(UnsafeMutableRawPointer(directoryWriter)); directoryWriter = nil
            destroy(UnsafeMutableRawPointer(directoryMeta)); directoryMeta = nil
            destroy(UnsafeMutableRawPointer(inodeMeta)); inodeMeta = nil
            destroy(UnsafeMutableRawPointer(xattrWriter)); xattrWriter = nil
            destroy(UnsafeMutableRawPointer(idTable)); idTable = nil
            destroy(UnsafeMutableRawPointer(processor)); processor = nil
            destroy(UnsafeMutableRawPointer(fragmentTable)); fragmentTable = nil
            destroy(UnsafeMutableRawPointer(blockWriter)); blockWriter = nil
            destroy(UnsafeMutableRawPointer(decompressor)); decompressor = nil
            destroy(UnsafeMutableRawPointer(compressor)); compressor = nil
            destroy(UnsafeMutableRawPointer(file)); file = nil
        }
    }
}
