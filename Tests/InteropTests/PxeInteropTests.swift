import Foundation
import LiveBuild
import Profile
import Testing
import TestSupport

/// The default profile's PXE tree read back with reference tools: `sha256sum -c` accepts the
/// digest file, GRUB's own parser accepts the network menu, the loaders are the host's, the
/// network GRUB is an EFI executable, every file is world-readable (TFTP servers refuse others),
/// and the manifest lists the whole tree.
@Suite struct PxeInteropTests {
    @Test func treeIsCompleteAndReadableByReferenceTools() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let tree = image.directory + "/" + PxeLayout.directory
        let check = try Tool.run(["sh", "-c", "cd \"$1\"/live && sha256sum -c filesystem.squashfs.sha256", "sh", tree])
        #expect(check.text.contains("filesystem.squashfs: OK"), "sha256sum -c: \(check.text) \(check.stderr)")
        try Tool.run(["grub-script-check", tree + "/" + PxeLayout.grubConfig])
        #expect(try Tool.run(["cmp", "/usr/lib/PXELINUX/lpxelinux.0", tree + "/" + PxeLayout.pxelinux]).status == 0)

        let efi = try Data(contentsOf: URL(fileURLWithPath: tree + "/" + PxeLayout.grubLoader))
        #expect(efi.prefix(2) == Data("MZ".utf8), "grubx64.efi is a PE image")
        let peOffset = Int(efi[0x3C]) | Int(efi[0x3D]) << 8
        #expect(efi.count > peOffset + 6 && efi[peOffset..<peOffset + 4] == Data([0x50, 0x45, 0, 0]))
        #expect(efi[peOffset + 4] == 0x64 && efi[peOffset + 5] == 0x86, "machine x86-64 (0x8664)")

        let listed = Set(image.manifest.artefacts.map(\.path).filter { $0.hasPrefix(PxeLayout.directory + "/") })
        for file in PxeStage.files {
            let path = tree + "/" + file
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode & 0o004 != 0, "\(file) is world-readable")
            #expect(listed.contains(PxeLayout.directory + "/" + file), "the manifest lists \(file)")
        }
        // The tree's live files are the ISO build's own (hard links), not copies.
        for file in ["live/vmlinuz", "live/initrd.img", "live/filesystem.squashfs"] {
            let a = try FileManager.default.attributesOfItem(atPath: tree + "/" + file)[.systemFileNumber] as? Int
            let b = try FileManager.default.attributesOfItem(atPath: image.directory + "/" + file)[.systemFileNumber] as? Int
            #expect(a != nil && a == b, "\(file) is a hard link to the build's")
        }
        let script = try String(contentsOfFile: tree + "/" + PxeLayout.ipxeScript, encoding: .utf8)
        #expect(script.contains("Cluster node (copy to RAM)") && script.contains("toram"), "the menu comes from the profile")
    }

    /// Per-node roots (`pxe.nodes`): GRUB's own parser accepts the menu that branches on the
    /// MAC and each node's file.
    @Test func perNodeGrubMenusParse() throws {
        let menu = try BootMenu(title: "Cluster", timeoutSeconds: 3, entries: [
            .init(label: "Cluster node", kernelCommandLine: "boot=live console=ttyS0,115200"),
            .init(label: "Cluster node (copy to RAM)", kernelCommandLine: "boot=live toram console=ttyS0,115200"),
        ])
        let nodes = [Profile.Pxe.Node(mac: "52:54:00:4c:42:03", root: .nfs), Profile.Pxe.Node(mac: "52:54:00:4c:42:04", root: .http)]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pxe-nodes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = [("grub.cfg", menu.grubNetworkConfig(root: .http, nodes: nodes))]
            + nodes.map { ("grub.cfg-" + $0.pxelinuxName, menu.grubNetworkConfig(root: $0.root)) }
        for (name, text) in files {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
            let check = try Tool.run(["grub-script-check", directory + "/" + name])
            #expect(check.status == 0, "grub-script-check \(name): \(check.stderr)")
        }
    }

    /// The ISO's root is a PXE tree too: a head node serves its own medium.
    @Test func isoRootCarriesTheLoaders() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let listing = try Tool.run(["xorriso", "-indev", image.iso, "-find", "/", "-type", "f"]).text
        for file in PxeStage.files {
            #expect(listing.contains("'/\(file)'"), "the ISO holds /\(file)")
        }
        let extracted = FileManager.default.temporaryDirectory.path + "/pxe-iso-\(getpid()).ipxe"
        defer { try? FileManager.default.removeItem(atPath: extracted) }
        try Tool.run(["xorriso", "-osirrox", "on", "-indev", image.iso, "-extract", "/boot.ipxe", extracted])
        let script = try String(contentsOfFile: extracted, encoding: .utf8)
        let tree = try String(contentsOfFile: image.directory + "/pxe/boot.ipxe", encoding: .utf8)
        #expect(script == tree, "the ISO's boot.ipxe is the PXE tree's")
    }
}
