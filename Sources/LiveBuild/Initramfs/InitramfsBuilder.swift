import Archive
import Filesystem

/// Writes the initramfs in-process with libarchive: cpio newc, zstd-compressed, holding the live
/// init, a static busybox from the image, and only the modules the init needs (decompressed, so
/// busybox `insmod` loads them whatever the kernel's module compression).
public struct InitramfsBuilder {
    /// Modules the live init loads (with their dependencies) when the kernel has them.
    public static let defaultModules = [
        // block layer, loop and the filesystems of the medium and the root
        "loop", "squashfs", "overlay", "isofs", "nls_utf8", "nls_cp437", "nls_iso8859_1", "nls_ascii", "vfat", "ext4",
        // ext4 asks the crypto API for crc32c, and the initramfs has no modprobe to load it on demand
        "crc32c_generic", "crc32c_intel",
        // CD, SATA, IDE, SCSI
        "cdrom", "sr_mod", "sd_mod", "ahci", "ata_piix", "ata_generic", "pata_acpi",
        // virtio (QEMU, clouds)
        "virtio_pci", "virtio_blk", "virtio_scsi",
        // USB sticks
        "xhci_pci", "xhci_hcd", "ehci_pci", "ehci_hcd", "ohci_pci", "uhci_hcd", "usb_storage", "uas",
        // NVMe
        "nvme",
        // network boot (fetch=): packet sockets for DHCP, and common NICs
        "af_packet", "virtio_net", "e1000", "e1000e", "igb", "igc", "ixgbe", "r8169", "tg3",
        // NFS root (live.nfs=): the NFSv3 client, without lock manager (mounted nolock)
        "nfsv3",
    ]

    public var files: ImageFiles
    public var kernelVersion: String
    public var modules: [String]
    public var mediumID: String
    public var squashfsSize: UInt64
    public var squashfsSHA256: String
    public var mtime: Int64
    /// zstd level of the initramfs. 9 rather than 19: on the default profile's 12 MB cpio,
    /// level 19 takes 5.2 s for 2.77 MB, level 9 0.25 s for 3.11 MB (Docs/benchmarks.md).
    public var compressionLevel: Int

    public init(files: ImageFiles, kernelVersion: String, modules: [String] = InitramfsBuilder.defaultModules,
                mediumID: String, squashfsSize: UInt64, squashfsSHA256: String, mtime: Int64, compressionLevel: Int = 9) {
        self.files = files
        self.kernelVersion = kernelVersion
        self.modules = modules
        self.mediumID = mediumID
        self.squashfsSize = squashfsSize
        self.squashfsSHA256 = squashfsSHA256
        self.mtime = mtime
        self.compressionLevel = compressionLevel
    }

    public struct Result: Sendable {
        public var modules: ModuleResolver.Resolution
        public var entries: Int
    }

    /// Writes the initramfs to `path`.
    public func write(to path: String) throws -> Result {
        guard let modulesDirectory = files.modulesDirectory(for: kernelVersion),
              let dep = files.files[modulesDirectory + "/modules.dep"] else {
            throw LiveBuildError(code: .image, message: "the image has no modules.dep for kernel \(kernelVersion); is the kernel package complete (run depmod in a hook)?")
        }
        guard let busybox = files.busybox else {
            throw LiveBuildError(code: .image, message: "the image has no /usr/bin/busybox; add the package busybox-static to base.debian.packages")
        }
        if Self.isDynamicallyLinked(busybox) {
            throw LiveBuildError(code: .image, message: "the image's /usr/bin/busybox is dynamically linked; use the package busybox-static instead of busybox")
        }
        let builtin = files.files[modulesDirectory + "/modules.builtin"].map { String(decoding: $0, as: UTF8.self) } ?? ""
        let resolver = ModuleResolver(modulesDep: String(decoding: dep, as: UTF8.self), modulesBuiltin: builtin)
        let resolution = resolver.resolve(modules)

        var entries: [(FileEntry, [UInt8])] = []
        func directory(_ path: String) {
            entries.append((FileEntry(path: path, kind: .directory, permissions: 0o755, mtime: mtime), []))
        }
        func file(_ path: String, _ bytes: [UInt8], _ permissions: UInt32 = 0o644) {
            entries.append((FileEntry(path: path, kind: .regular, permissions: permissions, mtime: mtime, size: UInt64(bytes.count)), bytes))
        }
        for path in ["bin", "dev", "etc", "etc/livebuild", "lib", "lib/modules", "newroot", "proc", "run", "sys", "tmp"] {
            directory(path)
        }
        entries.append((FileEntry(path: "dev/console", kind: .characterDevice, permissions: 0o600, mtime: mtime, deviceMajor: 5, deviceMinor: 1), []))
        entries.append((FileEntry(path: "dev/null", kind: .characterDevice, permissions: 0o666, mtime: mtime, deviceMajor: 1, deviceMinor: 3), []))
        file("bin/busybox", busybox, 0o755)
        entries.append((FileEntry(path: "bin/sh", kind: .symlink, permissions: 0o777, mtime: mtime, linkTarget: "busybox"), []))
        file("init", Array(LiveInit.script.utf8), 0o755)
        file("etc/livebuild/udhcpc.script", Array(LiveInit.udhcpcScript.utf8), 0o755)

        var loadOrder: [String] = []
        for module in resolution.load {
            let source = modulesDirectory + "/" + module.path
            guard let packed = files.files[source] else {
                throw LiveBuildError(code: .image, message: "modules.dep lists /\(source) but the image does not have it")
            }
            let bytes = module.path.hasSuffix(".ko") ? packed : try Archive.decompress(packed, name: source)
            file("lib/modules/\(module.name).ko", bytes)
            loadOrder.append("\(module.name).ko")
        }
        let configuration = LiveInit.Configuration(
            mediumID: mediumID, squashfsPath: "live/filesystem.squashfs", squashfsSize: squashfsSize,
            squashfsSHA256: squashfsSHA256, modules: loadOrder)
        file("etc/livebuild/initrd.conf", Array(configuration.render().utf8))

        let writer = try Archive.Writer(path: path, format: .cpioNewc, filter: .zstd(level: compressionLevel))
        for (entry, bytes) in entries.sorted(by: { $0.0.path < $1.0.path }) {
            try writer.add(entry, bytes: bytes)
        }
        try writer.finish()
        return Result(modules: resolution, entries: entries.count)
    }

    /// Whether an ELF file asks for a program interpreter (a `PT_INTERP` header).
    static func isDynamicallyLinked(_ elf: [UInt8]) -> Bool {
        guard elf.count > 64, elf[0] == 0x7f, elf[1] == 0x45, elf[4] == 2 else { return false }
        func u16(_ o: Int) -> Int { Int(elf[o]) | Int(elf[o + 1]) << 8 }
        func u64(_ o: Int) -> Int { (0..<8).reduce(0) { $0 | Int(elf[o + $1]) << (8 * $1) } }
        let phoff = u64(32), phentsize = u16(54), phnum = u16(56)
        for index in 0..<phnum {
            let offset = phoff + index * phentsize
            guard offset + 4 <= elf.count else { break }
            let type = Int(elf[offset]) | Int(elf[offset + 1]) << 8 | Int(elf[offset + 2]) << 16 | Int(elf[offset + 3]) << 24
            if type == 3 { return true }
        }
        return false
    }
}
