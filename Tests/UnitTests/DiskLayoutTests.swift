import Testing
@testable import LiveBuild
import Profile

/// The disk image's partition table (Docs/disk.md), its boot menu, and profile sizes.
@Suite struct DiskLayoutTests {
    static let mib: UInt64 = 1 << 20

    @Test func partitionsAreAlignedAndSizedFromTheirContentPlusTheMargin() {
        let layout = DiskLayout(espContent: 40 * Self.mib, squashfsSize: 230 * Self.mib + 12345, persistenceSize: 1 << 30,
                                marginPercent: 10, mediumID: "CLUSTER-1A2B3C4D")
        #expect(layout.partitions.map(\.role) == [.esp, .live, .persistence])
        #expect(layout.partitions.map(\.number) == [1, 2, 3])
        let esp = layout.partitions[0], live = layout.partitions[1], persistence = layout.partitions[2]
        // 40 MiB + 10 % + 2 MiB of FAT overhead, in whole MiB.
        #expect(esp.size == 46 * Self.mib)
        #expect(esp.start == Self.mib)
        #expect(esp.typeGUID == DiskLayout.espType)
        #expect(esp.attributes == DiskLayout.legacyBIOSBootable)
        // The live partition holds the squashfs itself, named by the medium id.
        #expect(live.name == "CLUSTER-1A2B3C4D")
        #expect(live.size >= 230 * Self.mib + 12345 + 23 * Self.mib)
        #expect(live.start == esp.start + esp.size)
        #expect(persistence.name == "livebuild-rw")
        #expect(persistence.size == 1 << 30)
        #expect(persistence.start == live.start + live.size)
        for partition in layout.partitions {
            #expect(partition.start % DiskLayout.alignment == 0)
            #expect(partition.size % DiskLayout.alignment == 0)
            #expect(partition.sectors.first == Int64(partition.start / 512))
            #expect(partition.sectors.last == Int64((partition.start + partition.size) / 512) - 1)
        }
        // 1 MiB in front for the MBR and GPT, 1 MiB behind for the backup GPT.
        #expect(layout.size == persistence.start + persistence.size + Self.mib)
    }

    @Test func smallESPsAreRaisedToTheFATMinimumAndNoPersistenceMeansTwoPartitions() {
        let layout = DiskLayout(espContent: Self.mib, squashfsSize: 10 * Self.mib, persistenceSize: nil, marginPercent: 0, mediumID: "X-1")
        #expect(layout.partitions.count == 2)
        #expect(layout.partitions[0].size == 32 * Self.mib)
        #expect(layout.partitions[1].size == 10 * Self.mib)
        #expect(layout.partition(.persistence) == nil)
    }

    @Test(arguments: [
        ("512MiB", UInt64(512) << 20), ("512M", UInt64(512) << 20), ("2GiB", UInt64(2) << 30), ("1G", UInt64(1) << 30),
        ("1TiB", UInt64(1) << 40),
    ])
    func sizes(text: String, bytes: UInt64) {
        #expect(Profile.Disk.bytes(text) == bytes)
    }

    @Test(arguments: ["512", "MiB", "1.5GiB", "-1G", "1 GiB", "1gib", "1KiB", "99999999999999999999G", "18446744073709551615T"])
    func badSizes(text: String) {
        #expect(Profile.Disk.bytes(text) == nil)
    }

    @Test func withPersistenceEveryEntryKeepsChangesAndOneMoreDoesNot() throws {
        let menu = try BootMenu(title: "T", timeoutSeconds: 3, entries: [
            .init(label: "Node", kernelCommandLine: "console=ttyS0"), .init(label: "RAM", kernelCommandLine: "toram"),
        ])
        let disk = try DiskStage.diskMenu(menu, persistence: true)
        #expect(disk.entries.map(\.label) == ["Node", "RAM", "Node (changes in RAM only)"])
        #expect(disk.entries.map(\.kernelCommandLine) == ["console=ttyS0 persistence", "toram persistence", "console=ttyS0"])
        #expect(try DiskStage.diskMenu(menu, persistence: false) == menu)
    }
}
