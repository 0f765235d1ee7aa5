/// Boot loader files taken from the build host's Debian packages.
public struct HostBootloaders: Sendable, Hashable {
    /// isolinux.bin (package `isolinux`).
    public var isolinuxBinary: String
    /// The isohybrid MBR template (package `isolinux`).
    public var isohybridMBR: String
    /// Directory of the BIOS syslinux modules (package `syslinux-common`).
    public var syslinuxModules: String
    /// GRUB's x86_64-efi module directory (package `grub-efi-amd64-bin`).
    public var grubEFIModules: String

    public init(isolinuxBinary: String, isohybridMBR: String, syslinuxModules: String, grubEFIModules: String) {
        self.isolinuxBinary = isolinuxBinary
        self.isohybridMBR = isohybridMBR
        self.syslinuxModules = syslinuxModules
        self.grubEFIModules = grubEFIModules
    }

    /// Where Debian 12/13 install them.
    public static let debian = HostBootloaders(
        isolinuxBinary: "/usr/lib/ISOLINUX/isolinux.bin",
        isohybridMBR: "/usr/lib/ISOLINUX/isohdpfx.bin",
        syslinuxModules: "/usr/lib/syslinux/modules/bios",
        grubEFIModules: "/usr/lib/grub/x86_64-efi")

    /// Every file used, with the Debian package providing it.
    func requiredFiles() -> [(path: String, package: String)] {
        [(isolinuxBinary, "isolinux"), (isohybridMBR, "isolinux")]
            + BootMenu.isolinuxModules.map { ("\(syslinuxModules)/\($0)", "syslinux-common") }
            + [("\(grubEFIModules)/linux.mod", "grub-efi-amd64-bin")]
    }

    /// grub-mkimage's arguments for an x86_64-efi GRUB with `modules` (from the module
    /// directory `directory`) built in that reads its menu from `prefix` (after `config`, an
    /// early config built into the image, when given). The ISO's, the disk's and the network
    /// GRUB differ only in these.
    static func grubImageArguments(directory: String, prefix: String, config: String? = nil, output: String, modules: [String] = grubModules) -> [String] {
        ["--directory", directory, "--format", "x86_64-efi", "--prefix", prefix]
            + (config.map { ["--config", $0] } ?? [])
            + ["--output", output] + modules
    }

    /// GRUB modules built into BOOTX64.EFI, so it needs nothing from the medium but grub.cfg.
    public static let grubModules = [
        "part_gpt", "part_msdos", "fat", "iso9660", "search", "search_fs_file", "search_label",
        "normal", "configfile", "linux", "echo", "serial", "terminal", "all_video", "efi_gop",
        "gfxterm", "test", "ls", "cat", "halt", "reboot", "sleep",
    ]
}
