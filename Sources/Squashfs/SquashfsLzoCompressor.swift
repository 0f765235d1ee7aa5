import CLzo
import CSquashfs

#if canImport(Glibc)
import Glibc
#endif

extension Squashfs {
    /// A libsquashfs compressor object (`sqfs_compressor_t`) backed by liblzo2's LZO1X-999.
    ///
    /// libsquashfs 1.2 ships no LZO compressor (liblzo2 is GPL, the library LGPL), so
    /// `sqfs_compressor_create` refuses `SQFS_COMP_LZO`; this supplies one through the same
    /// function-pointer interface. Each instance is one malloc'ed block: the `sqfs_compressor_t`
    /// that libsquashfs sees, followed by `State`. The block processor `sqfs_copy`s it once per
    /// worker thread, so every copy gets its own LZO work memory.
    enum LzoCompressor {
        /// The level mksquashfs and libsquashfs assume when no options are stored.
        static let defaultLevel = UInt32(SQFS_LZO_DEFAULT_LEVEL)

        struct State {
            var blockSize: UInt32
            var level: UInt32
            var uncompress: Bool
            /// LZO work memory, then room for a worst-case compressed block.
            var memory: UnsafeMutableRawPointer
            var workSize: Int
            var outputSize: Int
        }

        private static let stateOffset: Int = {
            let align = MemoryLayout<State>.alignment
            return (MemoryLayout<sqfs_compressor_t>.size + align - 1) / align * align
        }()

        private static let lzoReady: Bool = livebuild_lzo_init() == LZO_E_OK

        /// Creates a compressor (or, with `SQFS_COMP_FLAG_UNCOMPRESS`, a decompressor) from a
        /// libsquashfs configuration; same contract as `sqfs_compressor_create`.
        static func create(
            _ config: sqfs_compressor_config_t, _ out: inout UnsafeMutablePointer<sqfs_compressor_t>?
        ) -> Int32 {
            guard lzoReady else { return SQFS_ERROR_COMPRESSOR.rawValue }
            let uncompress = config.flags & UInt16(SQFS_COMP_FLAG_UNCOMPRESS.rawValue) != 0
            let level = config.level == 0 ? defaultLevel : config.level
            guard (1...9).contains(level) else { return SQFS_ERROR_UNSUPPORTED.rawValue }
            guard let made = make(blockSize: config.block_size, level: level, uncompress: uncompress) else {
                return SQFS_ERROR_ALLOC.rawValue
            }
            out = made
            return 0
        }

        private static func make(blockSize: UInt32, level: UInt32, uncompress: Bool) -> UnsafeMutablePointer<sqfs_compressor_t>? {
            let workSize = uncompress ? 0 : Int(livebuild_lzo1x_999_mem_compress())
            // LZO can grow incompressible input by up to 1/16 plus a few bytes.
            let largest = max(Int(blockSize), Int(SQFS_META_BLOCK_SIZE))
            let outputSize = uncompress ? 0 : largest + largest / 16 + 64 + 3
            guard let memory = malloc(max(workSize + outputSize, 1)) else { return nil }
            guard let raw = calloc(1, stateOffset + MemoryLayout<State>.size) else {
                free(memory)
                return nil
            }
            (raw + stateOffset).initializeMemory(as: State.self, to: State(
                blockSize: blockSize, level: level, uncompress: uncompress, memory: memory,
                workSize: workSize, outputSize: outputSize))
            let base = raw.bindMemory(to: sqfs_compressor_t.self, capacity: 1)
            base.pointee.base.destroy = { object in
                guard let object else { return }
                let raw = UnsafeMutableRawPointer(object)
                free((raw + LzoCompressor.stateOffset).assumingMemoryBound(to: State.self).pointee.memory)
                free(raw)
            }
            base.pointee.base.copy = { object in
                guard let object else { return nil }
                let state = LzoCompressor.state(UnsafeRawPointer(object))
                let copy = LzoCompressor.make(blockSize: state.blockSize, level: state.level, uncompress: state.uncompress)
                return UnsafeMutableRawPointer(copy)?.assumingMemoryBound(to: sqfs_object_t.self)
            }
            base.pointee.get_configuration = { compressor, config in
                guard let compressor, let config else { return }
                let state = LzoCompressor.state(UnsafeRawPointer(compressor))
                let flags = state.uncompress ? UInt16(SQFS_COMP_FLAG_UNCOMPRESS.rawValue) : 0
                _ = sqfs_compressor_config_init(config, SQFS_COMP_LZO, Int(state.blockSize), flags)
                config.pointee.level = state.level
            }
            base.pointee.write_options = { compressor, file in
                guard let compressor, let file else { return SQFS_ERROR_ARG_INVALID.rawValue }
                return LzoCompressor.writeOptions(level: LzoCompressor.state(UnsafeRawPointer(compressor)).level, file)
            }
            base.pointee.read_options = { _, _ in SQFS_ERROR_UNSUPPORTED.rawValue }  // the writer never reads
            if uncompress {
                base.pointee.do_block = { compressor, input, size, output, outputSize in
                    guard let compressor, let input, let output else { return SQFS_ERROR_ARG_INVALID.rawValue }
                    _ = compressor
                    var length = lzo_uint(outputSize)
                    let status = lzo1x_decompress_safe(input, lzo_uint(size), output, &length, nil)
                    return status == LZO_E_OK ? Int32(length) : SQFS_ERROR_COMPRESSOR.rawValue
                }
            } else {
                base.pointee.do_block = { compressor, input, size, output, outputSize in
                    guard let compressor, let input, let output else { return SQFS_ERROR_ARG_INVALID.rawValue }
                    let state = LzoCompressor.state(UnsafeRawPointer(compressor))
                    let work = state.memory
                    let scratch = (state.memory + state.workSize).assumingMemoryBound(to: UInt8.self)
                    var length = lzo_uint(state.outputSize)
                    let status = lzo1x_999_compress_level(
                        input, lzo_uint(size), scratch, &length, work, nil, 0, nil, Int32(state.level))
                    guard status == LZO_E_OK else { return SQFS_ERROR_COMPRESSOR.rawValue }
                    // Zero tells libsquashfs to store the block uncompressed.
                    guard length < lzo_uint(size), length <= lzo_uint(outputSize) else { return 0 }
                    output.update(from: scratch, count: Int(length))
                    return Int32(length)
                }
            }
            return base
        }

        private static func state(_ compressor: UnsafeRawPointer) -> State {
            (compressor + stateOffset).assumingMemoryBound(to: State.self).pointee
        }

        /// Stores a non-default level the way squashfs-tools reads it: right after the
        /// superblock, an uncompressed metadata block holding the algorithm (LZO1X-999 = 4)
        /// and the level, little endian. The default level stores nothing.
        private static func writeOptions(level: UInt32, _ file: UnsafeMutablePointer<sqfs_file_t>) -> Int32 {
            guard level != defaultLevel else { return 0 }
            var bytes: [UInt8] = [8, 0x80]  // 8 payload bytes, "uncompressed" bit
            for value in [UInt32(SQFS_LZO1X_999.rawValue), level] {
                withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
            }
            guard let writeAt = file.pointee.write_at else { return SQFS_ERROR_IO.rawValue }
            let status = bytes.withUnsafeBytes {
                writeAt(file, UInt64(MemoryLayout<sqfs_super_t>.size), $0.baseAddress, $0.count)
            }
            return status == 0 ? Int32(bytes.count) : status
        }
    }
}
