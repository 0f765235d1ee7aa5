extension Squashfs {
    /// What `Writer.finish()` produced: sizes and counts for logs, manifests and benchmarks.
    public struct Summary: Sendable, Hashable {
        /// Number of inodes in the image (hard links share one).
        public var inodeCount: Int
        /// `bytes_used` from the superblock: the image size without the trailing padding.
        public var bytesUsed: UInt64
        /// Size of the file on disk, padded to a multiple of 4 KiB.
        public var fileSize: UInt64
        /// Regular-file bytes fed into the writer.
        public var inputBytes: UInt64
        /// Data and fragment blocks physically written (after deduplication).
        public var blocksWritten: UInt64
        /// Of those, fragment blocks.
        public var fragmentBlocks: UInt64
        /// Blocks dropped because an identical block was already in the image.
        public var duplicateBlocks: UInt64
        /// All-zero blocks stored as sparse holes.
        public var sparseBlocks: UInt64
        /// Tail-end fragments stored, and those dropped as duplicates.
        public var fragments: UInt64
        public var duplicateFragments: UInt64
        /// Distinct uids and gids in the id table.
        public var idCount: Int
        /// Entries dropped because an earlier entry already owned their path (first one wins).
        public var ignoredEntries: Int
        /// Extended attributes dropped because squashfs cannot store their namespace
        /// (only `user.`, `trusted.` and `security.` exist on squashfs).
        public var skippedXattrs: Int

        public init(
            inodeCount: Int = 0, bytesUsed: UInt64 = 0, fileSize: UInt64 = 0, inputBytes: UInt64 = 0,
            blocksWritten: UInt64 = 0, fragmentBlocks: UInt64 = 0, duplicateBlocks: UInt64 = 0,
            sparseBlocks: UInt64 = 0, fragments: UInt64 = 0, duplicateFragments: UInt64 = 0,
            idCount: Int = 0, ignoredEntries: Int = 0, skippedXattrs: Int = 0
        ) {
            self.inodeCount = inodeCount
            self.bytesUsed = bytesUsed
            self.fileSize = fileSize
            self.inputBytes = inputBytes
            self.blocksWritten = blocksWritten
            self.fragmentBlocks = fragmentBlocks
            self.duplicateBlocks = duplicateBlocks
            self.sparseBlocks = sparseBlocks
            self.fragments = fragments
            self.duplicateFragments = duplicateFragments
            self.idCount = idCount
            self.ignoredEntries = ignoredEntries
            self.skippedXattrs = skippedXattrs
        }
    }
}
