extension Profile {
    /// The disk image (`outputs: ["disk"]`): its format, an optional persistence partition and
    /// the free space each partition gets beyond its content. Layout: Docs/disk.md.
    public struct Disk: Sendable, Equatable {
        /// How the image file is stored.
        public enum Format: String, Sendable, Equatable, CaseIterable {
            /// `NAME.img`: a plain disk, ready for `dd` to a USB stick.
            case raw
            /// `NAME.qcow2`: QEMU's copy-on-write format, for VM disks.
            case qcow2

            /// The image file's extension.
            public var fileExtension: String { self == .raw ? "img" : "qcow2" }
        }

        /// Free space percentages allowed for ``marginPercent``.
        public static let margins = 0...400

        public var format: Format
        /// Size in bytes of the ext4 persistence partition; nil for none.
        public var persistenceBytes: UInt64?
        /// Free space added to each partition's content, in percent of it.
        public var marginPercent: Int

        public init(format: Format = .raw, persistenceBytes: UInt64? = nil, marginPercent: Int = 10) {
            self.format = format
            self.persistenceBytes = persistenceBytes
            self.marginPercent = marginPercent
        }

        /// `512MiB`, `2GiB`, `300M`, `1G`, `1TiB` in bytes (binary units: M and MiB are the
        /// same); nil when the text is not a whole number followed by one of those units.
        public static func bytes(_ text: String) -> UInt64? {
            let digits = text.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let number = UInt64(digits) else { return nil }
            let shift: UInt64
            switch text.dropFirst(digits.count) {
            case "M", "MiB": shift = 20
            case "G", "GiB": shift = 30
            case "T", "TiB": shift = 40
            default: return nil
            }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
            return overflow ? nil : bytes
        }
    }
}
