import Foundation
import LiveBuild
import Testing
import TestSupport

/// The default profile's disk image read back with reference tools: qemu-img takes it as a
/// consistent qcow2; sfdisk reads the GPT as the layout says (types, names, the legacy-BIOS
/// attribute, 1 MiB alignment); the MBR carries syslinux's gptmbr.bin; fsck.fat and e2fsck find
/// clean filesystems with the right labels; unsquashfs lists the live partition's squashfs,
/// which is byte for byte the build's.
@Suite struct DiskInteropTests {
    @Test func referenceToolsReadTheDiskImage() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let disk = try #require(image.disk)
        let info = try Tool.run(["qemu-img", "info", "--output=json", disk]).text
        #expect(info.contains("\"format\": \"qcow2\""), "\(info)")
        try Tool.run(["qemu-img", "check", disk])

        let scratch = Repository.root + "/.build/vm-fixtures/disk-interop"
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let raw = scratch + "/disk.raw"
        try Tool.run(["qemu-img", "convert", "-O", "raw", disk, raw])

        let table = try JSONSerialization.jsonObject(with: Data(try Tool.run(["sfdisk", "--json", raw]).text.utf8)) as? [String: Any]
        let partitions = try #require((table?["partitiontable"] as? [String: Any])?["partitions"] as? [[String: Any]])
        #expect((table?["partitiontable"] as? [String: Any])?["label"] as? String == "gpt")
        #expect(partitions.count == 3)
        #expect(partitions.map { $0["type"] as? String } == [DiskLayout.espType, DiskLayout.linuxDataType, DiskLayout.linuxDataType])
        #expect(partitions.map { $0["name"] as? String } == ["ESP", image.manifest.mediumID, "livebuild-rw"])
        #expect((partitions[0]["attrs"] as? String)?.contains("LegacyBIOSBootable") == true, "\(partitions[0])")
        let starts = partitions.compactMap { $0["start"] as? Int }
        let sizes = partitions.compactMap { $0["size"] as? Int }
        #expect(starts.allSatisfy { $0 % 2048 == 0 } && sizes.allSatisfy { $0 % 2048 == 0 }, "1 MiB alignment: \(starts) \(sizes)")

        let mbr = try Data(contentsOf: URL(fileURLWithPath: "/usr/lib/syslinux/mbr/gptmbr.bin"))
        let head = try #require(FileHandle(forReadingAtPath: raw)).readData(ofLength: mbr.count)
        #expect(head == mbr, "the MBR's boot code is syslinux's gptmbr.bin")

        func extract(_ index: Int, to name: String) throws -> String {
            let path = scratch + "/" + name
            try Tool.run(["dd", "if=\(raw)", "of=\(path)", "bs=512", "skip=\(starts[index])", "count=\(sizes[index])", "conv=sparse", "status=none"])
            return path
        }
        let esp = try extract(0, to: "esp.img")
        try Tool.run(["fsck.fat", "-n", esp])
        #expect(try Tool.run(["fatlabel", esp]).text.trimmingCharacters(in: .whitespacesAndNewlines) == "LIVEBUILD")
        let files = try Tool.run(["mdir", "-/", "-a", "-b", "-i", esp, "::/"]).text
        for file in ["::/EFI/BOOT/BOOTX64.EFI", "::/boot/grub/grub.cfg", "::/syslinux/ldlinux.sys", "::/syslinux/ldlinux.c32", "::/syslinux/syslinux.cfg", "::/live/vmlinuz", "::/live/initrd.img"] {
            #expect(files.contains(file), "the ESP holds \(file): \(files)")
        }

        let persistence = try extract(2, to: "persistence.img")
        try Tool.run(["e2fsck", "-n", "-f", persistence])
        #expect(try Tool.run(["e2label", persistence]).text.trimmingCharacters(in: .whitespacesAndNewlines) == "livebuild-rw")

        let live = try extract(1, to: "live.img")
        let listing = try Tool.run(["unsquashfs", "-l", "-d", "", live, "/etc/livebuild"]).text
        #expect(listing.contains("/etc/livebuild/profile.json"), "\(listing)")
        let squashfsSize = image.manifest.artefacts.first { $0.path == "live/filesystem.squashfs" }?.size ?? 0
        let digest = try Tool.run(["sh", "-c", "head -c \"$1\" \"$2\" | sha256sum", "sh", String(squashfsSize), live]).text
        #expect(digest.hasPrefix(image.manifest.artefacts.first { $0.path == "live/filesystem.squashfs" }?.sha256 ?? "?"))
    }
}
