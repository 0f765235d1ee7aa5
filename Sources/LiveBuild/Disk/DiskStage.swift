import Foundation
import Guestfs
import HostTools
import Logging
import Profile

/// Stage g (`outputs: ["disk"]`): a GPT disk image (``DiskLayout``) that boots on BIOS and
/// UEFI, built through libguestfs as an ordinary user: no root, no loop devices. The squashfs
/// is copied into its partition inside the appliance (added as a second, read-only drive), so
/// its bytes never pass through this process.
public struct DiskStage {
    /// Boot files taken from the build host, with the Debian package holding each.
    public struct HostFiles: Sendable, Hashable {
        public var gptMBR = "/usr/lib/syslinux/mbr/gptmbr.bin"
        public var syslinuxModules = "/usr/lib/syslinux/modules/bios"
        public var grubEFIModules = "/usr/lib/grub/x86_64-efi"

        public init() {}

        func required() -> [(path: String, package: String)] {
            [(gptMBR, "syslinux-common")]
                + BootMenu.isolinuxModules.filter { $0 != "ldlinux.c32" }.map { ("\(syslinuxModules)/\($0)", "syslinux-common") }
                + [("\(grubEFIModules)/linux.mod", "grub-efi-amd64-bin")]
        }
    }

    /// Paths on the EFI system partition.
    public enum Files {
        public static let efiLoader = "EFI/BOOT/BOOTX64.EFI"
        public static let grubConfig = "boot/grub/grub.cfg"
        public static let syslinuxDirectory = "syslinux"
        public static let syslinuxConfig = "syslinux/syslinux.cfg"
        public static let kernel = "live/vmlinuz"
        public static let initrd = "live/initrd.img"
    }

    public var menu: BootMenu
    public var disk: Profile.Disk
    public var mediumID: String
    public var sourceDateEpoch: Int64
    public var host = HostFiles()
    /// The cluster key's image (``ClusterKeyImage``), for a cluster profile.
    public var keyImage: String?
    public var tools: ToolRunner
    public var logger: Logger

    public init(menu: BootMenu, disk: Profile.Disk, mediumID: String, sourceDateEpoch: Int64, logger: Logger, tools: ToolRunner = ToolRunner()) {
        self.menu = menu
        self.disk = disk
        self.mediumID = mediumID
        self.sourceDateEpoch = sourceDateEpoch
        self.logger = logger
        self.tools = tools.withSourceDateEpoch(sourceDateEpoch)
    }

    /// The disk's boot menu: with a persistence partition, every entry boots with
    /// `persistence`, and one more entry boots the first without it.
    public static func diskMenu(_ menu: BootMenu, persistence: Bool) throws -> BootMenu {
        guard persistence, let first = menu.entries.first else { return menu }
        let entries = menu.entries.map { entry in
            BootMenu.Entry(label: entry.label, kernelCommandLine: (entry.kernelCommandLine.isEmpty ? "" : entry.kernelCommandLine + " ") + "persistence")
        } + [BootMenu.Entry(label: first.label + " (changes in RAM only)", kernelCommandLine: first.kernelCommandLine)]
        return try BootMenu(title: menu.title, timeoutSeconds: menu.timeoutSeconds, entries: entries, serial: menu.serial)
    }

    /// Writes the image to `path` from the live files in `live`; returns its layout.
    @discardableResult
    public func write(live: String, to path: String, scratch: String) async throws -> DiskLayout {
        for (file, package) in host.required() where !FileManager.default.fileExists(atPath: file) {
            throw LiveBuildError(code: .tool, message: "\(file) is missing: outputs [\"disk\"] needs the Debian package \(package) on the build host (apt-get install \(package))")
        }
        let esp = scratch + "/esp"
        try await stageESP(live: live, into: esp)
        let espFiles = try Self.regularFiles(under: esp)
        let espContent = try espFiles.reduce(UInt64(0)) { $0 + (try FileSize.of(esp + "/" + $1)) }
        let squashfs = live + "/filesystem.squashfs"
        let layout = DiskLayout(
            espContent: espContent, squashfsSize: try FileSize.of(squashfs), persistenceSize: disk.persistenceBytes,
            marginPercent: disk.marginPercent, mediumID: mediumID)

        let environment = ProcessInfo.processInfo.environment
        let backend = Guestfs.Backend.forThisHost(logger: logger)
        if backend.forceTCG { logger.info("disk: KVM does not work here; libguestfs runs its appliance under TCG (force_tcg)") }
        do {
            let guestfs = try Guestfs(backend: backend, environment: environment)
            try guestfs.createDisk(path, format: disk.format.rawValue, size: layout.size)
            try guestfs.addDrive(path, format: disk.format.rawValue)
            try guestfs.addDrive(squashfs, format: "raw", readOnly: true)
            try guestfs.launch()

            let device = "/dev/sda"
            try guestfs.partInit(device, type: "gpt")
            for partition in layout.partitions {
                try guestfs.partAdd(device, start: partition.sectors.first, end: partition.sectors.last)
                try guestfs.partSetGPTType(device, partition: partition.number, guid: partition.typeGUID)
                try guestfs.partSetName(device, partition: partition.number, name: partition.name)
                if partition.attributes != 0 {
                    try guestfs.partSetGPTAttributes(device, partition: partition.number, attributes: partition.attributes)
                }
            }
            func node(_ partition: DiskLayout.Partition) -> String { device + String(partition.number) }
            for partition in layout.partitions {
                switch partition.role {
                case .esp: try guestfs.mkfs("vfat", device: node(partition), label: "LIVEBUILD")
                case .persistence: try guestfs.mkfs("ext4", device: node(partition), label: LiveInit.persistenceLabel)
                case .live: try guestfs.copyDevice("/dev/sdb", to: node(partition), size: try FileSize.of(squashfs))
                }
            }
            let espNode = node(layout.partitions[0])
            try guestfs.mount(espNode, at: "/")
            for directory in Set(espFiles.map { ($0 as NSString).deletingLastPathComponent }).sorted() where !directory.isEmpty {
                try guestfs.mkdirP("/" + directory)
            }
            for file in espFiles {
                try guestfs.upload(esp + "/" + file, to: "/" + file)
            }
            try guestfs.unmountAll()
            // ldlinux.sys and ldlinux.c32 come from the appliance's syslinux, built from the
            // host's packages: the same version as the modules copied beside them.
            try guestfs.syslinux(espNode, directory: "/" + Files.syslinuxDirectory)
            let mbr = try Data(contentsOf: URL(fileURLWithPath: host.gptMBR))
            guard mbr.count <= 440 else {
                throw LiveBuildError(code: .tool, message: "\(host.gptMBR) has \(mbr.count) bytes; a boot code area holds 440 (is syslinux-common damaged?)")
            }
            try guestfs.pwriteDevice(device, bytes: Array(mbr), offset: 0)
            try guestfs.shutdown()
        } catch let error as Guestfs.Error {
            throw LiveBuildError(
                code: .tool,
                message: "building the disk image through libguestfs failed: \(error). libguestfs needs the Debian packages libguestfs0 and linux-image-amd64 (its appliance boots the host's kernel); run `LIBGUESTFS_DEBUG=1 livebuild make ...` to see the appliance's log",
                underlying: error)
        }
        return layout
    }

    /// The files of the EFI system partition, in `directory`.
    func stageESP(live: String, into directory: String) async throws {
        let fileManager = FileManager.default
        try? fileManager.removeItem(atPath: directory)
        for sub in ["EFI/BOOT", "boot/grub", Files.syslinuxDirectory, "live"] {
            try fileManager.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        for (name, target) in [("vmlinuz", Files.kernel), ("initrd.img", Files.initrd)] {
            try fileManager.linkItem(atPath: live + "/" + name, toPath: directory + "/" + target)
        }
        for module in BootMenu.isolinuxModules where module != "ldlinux.c32" {
            try fileManager.copyItem(atPath: host.syslinuxModules + "/" + module, toPath: directory + "/" + Files.syslinuxDirectory + "/" + module)
        }
        let menu = try Self.diskMenu(menu, persistence: disk.persistenceBytes != nil)
        var initrds = ["/" + Files.initrd]
        if let keyImage {
            // The cluster key, on the ESP only (never in the squashfs): loaded as a second initramfs.
            try fileManager.createDirectory(atPath: directory + "/livebuild", withIntermediateDirectories: true)
            try fileManager.copyItem(atPath: keyImage, toPath: directory + "/" + ClusterKeyImage.path)
            initrds.append("/" + ClusterKeyImage.path)
        }
        try Data(menu.syslinuxConfig(kernel: "/" + Files.kernel, initrds: initrds).utf8)
            .write(to: URL(fileURLWithPath: directory + "/" + Files.syslinuxConfig))
        try Data(menu.grubConfig(kernel: "/" + Files.kernel, initrds: initrds).utf8)
            .write(to: URL(fileURLWithPath: directory + "/" + Files.grubConfig))
        do {
            // No device in the prefix: GRUB reads /boot/grub on the partition it was loaded from.
            try await tools.run("grub-mkimage", HostBootloaders.grubImageArguments(directory: host.grubEFIModules, prefix: "/boot/grub", output: directory + "/" + Files.efiLoader))
        } catch {
            throw LiveBuildError(code: .tool, message: "building the disk's GRUB (grub-mkimage) failed: \(error)", underlying: error)
        }
    }

    /// Regular files under `directory`, relative to it, sorted.
    static func regularFiles(under directory: String) throws -> [String] {
        let fileManager = FileManager.default
        guard let enumerator = fileManager.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: directory + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(relative)
            }
        }
        return files.sorted()
    }
}
