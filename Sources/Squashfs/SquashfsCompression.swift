import CSquashfs

extension Squashfs {
    /// The compressor for data blocks and metadata. All five are readable by the Linux kernel
    /// (given the matching `CONFIG_SQUASHFS_*` option).
    public enum Compression: String, Sendable, Hashable, CaseIterable {
        case zstd, xz, gzip, lz4, lzo

        /// The libsquashfs compressor id (`SQFS_COMP_*`).
        var id: SQFS_COMPRESSOR {
            switch self {
            case .zstd: return SQFS_COMP_ZSTD
            case .xz: return SQFS_COMP_XZ
            case .gzip: return SQFS_COMP_GZIP
            case .lz4: return SQFS_COMP_LZ4
            case .lzo: return SQFS_COMP_LZO
            }
        }

        /// Accepted compression levels, or `nil` when the compressor has no levels
        /// (for lz4 any level selects the high-compression variant, LZ4HC).
        public var levels: ClosedRange<UInt32>? {
            switch self {
            case .zstd: return UInt32(SQFS_ZSTD_MIN_LEVEL)...UInt32(SQFS_ZSTD_MAX_LEVEL)
            case .xz: return UInt32(SQFS_XZ_MIN_LEVEL)...UInt32(SQFS_XZ_MAX_LEVEL)
            case .gzip: return UInt32(SQFS_GZIP_MIN_LEVEL)...UInt32(SQFS_GZIP_MAX_LEVEL)
            case .lzo: return 1...UInt32(SQFS_LZO_MAX_LEVEL)  // LZO1X-999 levels
            case .lz4: return nil
            }
        }

        /// The level libsquashfs (and so tar2sqfs) uses when none is given.
        public var defaultLevel: UInt32? {
            switch self {
            case .zstd: return UInt32(SQFS_ZSTD_DEFAULT_LEVEL)
            case .xz: return UInt32(SQFS_XZ_DEFAULT_LEVEL)
            case .gzip: return UInt32(SQFS_GZIP_DEFAULT_LEVEL)
            case .lzo: return UInt32(SQFS_LZO_DEFAULT_LEVEL)
            case .lz4: return nil
            }
        }
    }
}
