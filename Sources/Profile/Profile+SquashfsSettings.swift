extension Profile {
    /// How the root filesystem image is compressed.
    public struct SquashfsSettings: Sendable, Equatable {
        /// Smallest and largest block size squashfs allows.
        public static let blockSizes = 4096...1_048_576

        /// The compressor.
        public var compression: Compression
        /// The compressor's level; `nil` uses the compressor's own default. Always inside
        /// ``Compression/levels`` for the chosen compressor.
        public var level: Int?
        /// Data block size in bytes: a power of two in ``blockSizes``.
        public var blockSize: Int

        /// Settings; the defaults are the ones a profile gets without a `squashfs` key.
        public init(compression: Compression = .zstd, level: Int? = nil, blockSize: Int = 131_072) {
            self.compression = compression
            self.level = level
            self.blockSize = blockSize
        }
    }
}
