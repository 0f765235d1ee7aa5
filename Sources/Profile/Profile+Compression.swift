extension Profile {
    /// A squashfs compressor.
    public enum Compression: String, Sendable, Equatable, CaseIterable {
        case zstd, xz, gzip, lz4, lzo

        /// The levels the compressor accepts; `nil` when it takes no level.
        public var levels: ClosedRange<Int>? {
            switch self {
            case .zstd: 1...22
            case .xz: 0...9
            case .gzip: 1...9
            case .lzo: 1...9
            case .lz4: nil
            }
        }
    }
}
