import Foundation
import HostTools
import Logging
import Profile

/// Stage f (`outputs: ["pxe"]`): the PXE tree beside the ISO, from the same kernel, initramfs
/// and squashfs (hard links, no copies). Loaders come from the build host's Debian packages;
/// the network GRUB is built here with grub-mkimage. Layout: ``PxeLayout``, Docs/pxe.md.
public struct PxeStage {
    /// Loader files taken from the host, with the Debian package holding each.
    public struct HostFiles: Sendable, Hashable {
        public var pxelinux = "/usr/lib/PXELINUX/lpxelinux.0"
        public var syslinuxModules = "/usr/lib/syslinux/modules/bios"
        public var grubEFIModules = "/usr/lib/grub/x86_64-efi"
        public var ipxeBIOS = "/usr/lib/ipxe/undionly.kpxe"
        public var ipxeUEFI = "/usr/lib/ipxe/snponly.efi"

        public init() {}

        /// (source, name in the tree, package): the loaders every tree has.
        func copies() -> [(source: String, target: String, package: String)] {
            [(pxelinux, PxeLayout.pxelinux, "pxelinux")]
                + BootMenu.isolinuxModules.map { ("\(syslinuxModules)/\($0)", $0, "syslinux-common") }
        }

        /// iPXE to chain from firmware PXE, when the host has Debian's `ipxe` package. Optional:
        /// that package also adds iPXE entries to the host's own GRUB menu, which a build
        /// host should not get as a side effect of livebuild's dependencies.
        func optionalCopies() -> [(source: String, target: String)] {
            [(ipxeBIOS, PxeLayout.ipxeBIOS), (ipxeUEFI, PxeLayout.ipxeUEFI)]
                .filter { FileManager.default.fileExists(atPath: $0.0) }
        }
    }

    public var menu: BootMenu
    /// How diskless nodes get the squashfs (`pxe.root`, and `pxe.nodes` per MAC): the menus
    /// pass `fetch=` or `live.nfs=`.
    public var pxe: Profile.Pxe
    public var squashfsSHA256: String
    public var sourceDateEpoch: Int64
    public var host = HostFiles()
    public var tools: ToolRunner

    public init(menu: BootMenu, pxe: Profile.Pxe = .init(), squashfsSHA256: String, sourceDateEpoch: Int64, tools: ToolRunner = ToolRunner()) {
        self.menu = menu
        self.pxe = pxe
        self.squashfsSHA256 = squashfsSHA256
        self.sourceDateEpoch = sourceDateEpoch
        self.tools = tools.withSourceDateEpoch(sourceDateEpoch)
    }

    /// Files every tree has, relative to it, in a stable order.
    public static let files = [
        PxeLayout.ipxeScript, PxeLayout.pxelinux, "ldlinux.c32", "libcom32.c32", "libutil.c32", "menu.c32",
        PxeLayout.pxelinuxConfig, PxeLayout.grubLoader, PxeLayout.grubConfig,
        PxeLayout.kernel, PxeLayout.initrd, PxeLayout.squashfs, PxeLayout.squashfsDigest,
    ]

    /// Writes the tree into `directory` from the live files in `live` (hard links; with
    /// `linkLive` false the live files are already there, as in the ISO's staging directory);
    /// returns its files (``files`` and the optional iPXE loaders present), for the manifest.
    @discardableResult
    public func write(live: String, to directory: String, scratch: String, linkLive: Bool = true) async throws -> [String] {
        for text in [menu.title] + menu.entries.flatMap({ [$0.label, $0.kernelCommandLine] }) where text.contains("${") {
            throw LiveBuildError(code: .profile, message: "boot: \"\(text)\" contains \"${\", which the iPXE menu would expand as a setting; remove it for outputs [\"pxe\"]")
        }
        for (source, _, package) in host.copies() + [("\(host.grubEFIModules)/efinet.mod", "", "grub-efi-amd64-bin")]
        where !FileManager.default.fileExists(atPath: source) {
            throw LiveBuildError(code: .tool, message: "\(source) is missing: outputs [\"pxe\"] needs the Debian package \(package) on the build host (apt-get install \(package))")
        }
        let fileManager = FileManager.default
        for sub in ["live", "pxelinux.cfg", "grub"] {
            try fileManager.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        for name in ["vmlinuz", "initrd.img", "filesystem.squashfs"] where linkLive {
            try fileManager.linkItem(atPath: live + "/" + name, toPath: directory + "/live/" + name)
        }
        try write("\(squashfsSHA256)  filesystem.squashfs\n", to: directory + "/" + PxeLayout.squashfsDigest)
        for (source, target, _) in host.copies() {
            try fileManager.copyItem(atPath: source, toPath: directory + "/" + target)
        }
        let optional = host.optionalCopies()
        for (source, target) in optional {
            try fileManager.copyItem(atPath: source, toPath: directory + "/" + target)
        }
        try write(menu.ipxeScript(root: pxe.root, nodes: pxe.nodes), to: directory + "/" + PxeLayout.ipxeScript)
        try write(menu.pxelinuxConfig(root: pxe.root), to: directory + "/" + PxeLayout.pxelinuxConfig)
        try write(menu.grubNetworkConfig(root: pxe.root, nodes: pxe.nodes), to: directory + "/" + PxeLayout.grubConfig)
        var nodeFiles: [String] = []
        for node in pxe.nodes {
            let pxelinux = PxeLayout.pxelinuxNodeConfig(node), grub = PxeLayout.grubNodeConfig(node)
            try write(menu.pxelinuxConfig(root: node.root), to: directory + "/" + pxelinux)
            try write(menu.grubNetworkConfig(root: node.root), to: directory + "/" + grub)
            nodeFiles += [pxelinux, grub]
        }
        try fileManager.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        do {
            // Prefix /grub: GRUB completes it to (tftp,SERVER)/grub with the server it came from.
            try await tools.run("grub-mkimage", HostBootloaders.grubImageArguments(directory: host.grubEFIModules, prefix: "/grub", output: directory + "/" + PxeLayout.grubLoader, modules: PxeLayout.grubModules))
        } catch {
            throw LiveBuildError(code: .tool, message: "building the network GRUB failed: \(error)", underlying: error)
        }
        // TFTP servers (dnsmasq among them) serve only world-readable files.
        let written = Self.files + nodeFiles + optional.map(\.target)
        for file in written {
            try fileManager.setAttributes([.posixPermissions: 0o644, .modificationDate: Date(timeIntervalSince1970: TimeInterval(sourceDateEpoch))],
                                          ofItemAtPath: directory + "/" + file)
        }
        return written
    }

    private func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}
