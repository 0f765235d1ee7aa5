import CSquashfs

#if canImport(Glibc)
import Glibc
#endif

extension Squashfs {
    /// How an image is written. Everything that affects the bytes of the image is here; nothing
    /// is taken from the environment or the clock, so equal options and entries give equal images.
    public struct Options: Sendable, Hashable {
        /// Compressor for data and metadata.
        public var compression: Compression
        /// Compression level; `nil` uses the compressor's default (zstd 15, xz 6, gzip 9, lzo 8).
        /// For lz4, any level selects LZ4HC.
        public var level: UInt32?
        /// Data block size in bytes: a power of two from 4 KiB to 1 MiB.
        public var blockSize: Int
        /// Number of compression worker threads. The image does not depend on it.
        public var threads: Int
        /// Superblock modification time and the mtime of implicitly created directories
        /// (seconds since the epoch; pass `SOURCE_DATE_EPOCH`).
        public var modificationTime: Int64
        /// Whether to write the NFS export table.
        public var exportable: Bool

        public init(
            compression: Compression = .zstd, level: UInt32? = nil,
            blockSize: Int = Int(SQFS_DEFAULT_BLOCK_SIZE), threads: Int = Options.defaultThreads,
            modificationTime: Int64 = 0, exportable: Bool = false
        ) {
            self.compression = compression
            self.level = level
            self.blockSize = blockSize
            self.threads = threads
            self.modificationTime = modificationTime
            self.exportable = exportable
        }

        /// The number of processors this process may run on.
        public static var defaultThreads: Int {
            #if canImport(Glibc)
            let count = sysconf(Int32(_SC_NPROCESSORS_ONLN))
            return count > 0 ? count : 1
            #else
            return 1
            #endif
        }

        /// Throws `Squashfs.Error.invalidOptions` naming the first bad setting.
        public func validate() throws(Error) {
            let minimum = Int(SQFS_MIN_BLOCK_SIZE), maximum = Int(SQFS_MAX_BLOCK_SIZE)
            guard blockSize >= minimum, blockSize <= maximum, blockSize & (blockSize - 1) == 0 else {
                throw .invalidOptions(
                    "block size \(blockSize) must be a power of two from \(minimum) to \(maximum) bytes")
            }
            guard threads >= 1, threads <= 1024 else {
                throw .invalidOptions("thread count \(threads) must be between 1 and 1024")
            }
            guard modificationTime >= 0, modificationTime <= Int64(UInt32.max) else {
                throw .invalidOptions(
                    "modification time \(modificationTime) does not fit squashfs's unsigned 32-bit time")
            }
            if let level, let levels = compression.levels, !levels.contains(level) {
                throw .invalidOptions(
                    "\(compression.rawValue) level \(level) is outside \(levels.lowerBound)...\(levels.upperBound)")
            }
        }
    }
}
