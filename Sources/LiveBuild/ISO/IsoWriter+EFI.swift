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
            try await tools.run("grub-mkimage", HostBootloaders.grubImageArguments(directory: bootloaders.grubEFIModules, prefix: "/boot/grub", config: earlyConfig, output: loader))
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
}
