import Crypto
import Foundation

extension IsoWriter {
    /// Builds BOOTX64.EFI with grub-mkimage, the FAT ESP image holding it, and grub.cfg.
    func writeEFIFiles(into tree: String, scratch: String) async throws(IsoWriter.Error) {
        let earlyConfig = scratch + "/grub-early.cfg"
        let loader = scratch + "/bootx64.efi"
        let espImage = tree + "/" + IsoLayout.efiImage
        try writeFile(earlyConfig, contents: grubEarlyConfig())
        try? FileManager.default.removeItem(atPath: loader)
        do {
            try await tools.run("grub-mkimage", [
                "--directory", bootloaders.grubEFIModules,
                "--format", "x86_64-efi",
                "--prefix", "/boot/grub",
                "--config", earlyConfig,
                "--output", loader,
            ] + HostBootloaders.grubModules)
        } catch {
            throw .tool(error)
        }
        // mcopy -m keeps the loader's mtime; mtools dates directories from SOURCE_DATE_EPOCH.
        try fixDates(under: loader)

        let loaderSize = (try? FileManager.default.attributesOfItem(atPath: loader)[.size] as? Int) ?? 0
        // The loader plus room for FAT structures, in whole MiB.
        let sizeKiB = ((loaderSize + (512 << 10)) / (1 << 20) + 1) * 1024
        try makeParent(of: espImage)
        try? FileManager.default.removeItem(atPath: espImage)
        do {
            try await tools.run("mkfs.fat", [
                "-C", "--invariant",
                "-i", espVolumeID(),
                "-n", "EFIBOOT",
                espImage, String(sizeKiB),
            ])
            try await tools.run("mmd", ["-i", espImage, "::/EFI", "::/EFI/BOOT"])
            try await tools.run("mcopy", ["-m", "-i", espImage, loader, "::/EFI/BOOT/BOOTX64.EFI"])
        } catch {
            throw .tool(error)
        }
        try copy(loader, to: tree + "/" + IsoLayout.efiLoader)
        try writeFile(tree + "/" + IsoLayout.grubConfig, contents: bootMenu.grubConfig())
    }

    /// Built into BOOTX64.EFI: find this medium by its marker file, then read its grub.cfg.
    func grubEarlyConfig() -> String {
        """
        search --no-floppy --set=root --file /\(IsoLayout.marker(for: mediumID))
        set prefix=($root)/boot/grub
        configfile /\(IsoLayout.grubConfig)

        """
    }

    /// FAT volume serial: the first 32 bits of SHA-256(medium id), in hex.
    func espVolumeID() -> String {
        SHA256.hash(data: Data(mediumID.value.utf8)).prefix(4).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    /// GPT disk GUID: SHA-256(medium id) shaped as an RFC 4122 version 4 GUID. xorriso derives
    /// the partition GUIDs from it.
    func gptDiskGUID() -> String {
        var bytes = Array(SHA256.hash(data: Data(("livebuild-gpt:" + mediumID.value).utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    /// `epoch` as xorriso's `YYYYMMDDhhmmsscc` (UTC).
    static func isoDate(epoch: Int64) -> String {
        var time = time_t(epoch)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)" + two(parts.tm_mon + 1) + two(parts.tm_mday)
            + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec) + "00"
    }
}
