/// The partition table of a disk image (Docs/disk.md): GPT, partitions aligned to 1 MiB.
///
/// 1. EFI system partition (FAT): GRUB for UEFI, syslinux for BIOS (booted through the
///    protective MBR's `gptmbr.bin` and the legacy-BIOS-bootable attribute), the kernel and
///    the initramfs.
/// 2. The live partition: the squashfs itself, no filesystem around it; its GPT name is the
///    medium id, which the live init looks for.
/// 3. Optional: the ext4 persistence partition, labelled ``LiveInit/persistenceLabel``.
///
/// Pure: sizes in, offsets out.
public struct DiskLayout: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public enum Role: String, Sendable, Equatable {
            case esp, live, persistence
        }

        public var number: Int
        public var role: Role
        /// GPT partition name.
        public var name: String
        public var typeGUID: String
        /// GPT attribute bits.
        public var attributes: UInt64
        public var start: UInt64
        public var size: UInt64

        /// First and last 512-byte sector, as `part_add` takes them.
        public var sectors: (first: Int64, last: Int64) {
            (Int64(start / DiskLayout.sectorSize), Int64((start + size) / DiskLayout.sectorSize) - 1)
        }
    }

    public static let sectorSize: UInt64 = 512
    public static let alignment: UInt64 = 1 << 20
    /// Room for FAT's tables and directories on top of the files.
    static let fatOverhead: UInt64 = 2 << 20
    /// mkfs.fat makes no FAT filesystem much smaller; FAT16 from here on.
    static let minimumESP: UInt64 = 32 << 20

    public static let espType = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
    public static let linuxDataType = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
    /// Bit 2: legacy BIOS bootable, the partition `gptmbr.bin` boots.
    public static let legacyBIOSBootable: UInt64 = 1 << 2

    public var partitions: [Partition]
    /// The whole image: the partitions plus 1 MiB before (protective MBR, GPT) and after
    /// (the backup GPT).
    public var size: UInt64

    /// - Parameters:
    ///   - espContent: bytes of the files on the EFI system partition.
    ///   - marginPercent: free space each partition gets beyond its content.
    public init(espContent: UInt64, squashfsSize: UInt64, persistenceSize: UInt64?, marginPercent: Int, mediumID: String) {
        func withMargin(_ bytes: UInt64) -> UInt64 { bytes + bytes * UInt64(max(0, marginPercent)) / 100 }
        let sizes: [(Partition.Role, String, String, UInt64, UInt64)] = [
            (.esp, "ESP", Self.espType, Self.legacyBIOSBootable,
             max(Self.minimumESP, Self.aligned(withMargin(espContent) + Self.fatOverhead))),
            (.live, mediumID, Self.linuxDataType, 0, Self.aligned(withMargin(squashfsSize))),
        ] + (persistenceSize.map { [(.persistence, LiveInit.persistenceLabel, Self.linuxDataType, 0, Self.aligned($0))] } ?? [])
        var offset = Self.alignment
        partitions = sizes.enumerated().map { index, item in
            defer { offset += item.4 }
            return Partition(number: index + 1, role: item.0, name: item.1, typeGUID: item.2, attributes: item.3, start: offset, size: item.4)
        }
        size = offset + Self.alignment
    }

    public func partition(_ role: Partition.Role) -> Partition? {
        partitions.first { $0.role == role }
    }

    static func aligned(_ bytes: UInt64) -> UInt64 {
        (bytes + alignment - 1) / alignment * alignment
    }
}
