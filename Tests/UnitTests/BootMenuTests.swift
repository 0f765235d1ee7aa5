import Foundation
import Profile
import Testing
@testable import LiveBuild

/// Golden-file tests for the boot menu renderers. Re-record with LIVEBUILD_RECORD_GOLDEN=1.
@Suite struct BootMenuTests {
    static let single = try! BootMenu(
        title: "Livebuild live system",
        timeoutSeconds: 5,
        entries: [.init(label: "Live system", kernelCommandLine: "boot=live console=tty0 console=ttyS0,115200 quiet")])

    static let several = try! BootMenu(
        title: "Rescue 'n' recovery",
        timeoutSeconds: 0,
        entries: [
            .init(label: "Live system (to RAM)", kernelCommandLine: "boot=live toram console=ttyS0,115200"),
            .init(label: "Live system, it's safe mode", kernelCommandLine: #"boot=live nomodeset init=/bin/sh $x "a;b" console=ttyS0,115200"#),
            .init(label: "No arguments", kernelCommandLine: ""),
        ],
        serial: .init(unit: 1, speed: 9600))

    static let cases: [(String, BootMenu)] = [("single", single), ("several", several)]

    @Test(arguments: cases)
    func isolinux(name: String, menu: BootMenu) throws {
        try Golden.check(menu.isolinuxConfig(), against: "isolinux-\(name).cfg")
    }

    @Test(arguments: cases)
    func grub(name: String, menu: BootMenu) throws {
        try Golden.check(menu.grubConfig(), against: "grub-\(name).cfg")
    }

    @Test(arguments: cases)
    func pxelinux(name: String, menu: BootMenu) throws {
        try Golden.check(menu.pxelinuxConfig(), against: "pxelinux-\(name).cfg")
    }

    @Test(arguments: cases)
    func grubNetwork(name: String, menu: BootMenu) throws {
        try Golden.check(menu.grubNetworkConfig(), against: "grub-net-\(name).cfg")
    }

    @Test(arguments: cases)
    func ipxe(name: String, menu: BootMenu) throws {
        try Golden.check(menu.ipxeScript(), against: "ipxe-\(name).ipxe")
    }

    /// Every network loader hands the live init a `fetch=` URL naming the server it booted from,
    /// in that loader's own syntax, and reads the kernel relative to the tree.
    @Test func networkMenusFetchTheSquashfsFromTheBootServer() {
        let pxelinux = Self.several.pxelinuxConfig()
        #expect(pxelinux.components(separatedBy: "fetch=http://${pxeserver}/live/filesystem.squashfs").count == 4)
        #expect(pxelinux.components(separatedBy: "IPAPPEND 1").count == 4)
        #expect(pxelinux.contains("LINUX live/vmlinuz"))
        let grub = Self.several.grubNetworkConfig()
        #expect(grub.components(separatedBy: "fetch=http://${net_default_server}/live/filesystem.squashfs").count == 4)
        #expect(grub.contains("\\$x"), "the entry's own $ stays escaped")
        let ipxe = Self.several.ipxeScript()
        #expect(ipxe.hasPrefix("#!ipxe\n"))
        #expect(!ipxe.contains("choose"), "timeout 0 boots the first entry at once (iPXE's --timeout 0 would wait forever)")
        let waiting = try! BootMenu(title: "t", timeoutSeconds: 3, entries: Self.several.entries)
        #expect(waiting.ipxeScript().contains("choose --default entry1 --timeout 3000 target || goto entry1"))
        #expect(ipxe.components(separatedBy: "kernel http://${bootserver}/live/vmlinuz initrd=initrd.img ").count == 4)
        #expect(ipxe.components(separatedBy: "initrd http://${bootserver}/live/initrd.img\n").count == 4)
        #expect(ipxe.components(separatedBy: "fetch=http://${bootserver}/live/filesystem.squashfs").count == 4)
        #expect(ipxe.contains("isset ${proxydhcp/next-server} && set bootserver ${proxydhcp/next-server} || set bootserver ${next-server}"))
        #expect(!Self.single.ipxeScript().contains("menu "), "one entry boots without a menu")
    }

    /// With `pxe.root` `nfs` every network loader passes `live.nfs=SERVER:/run/live/medium/live`
    /// (a head's boot medium's live/ directory, nothing else of it) in place of `fetch=`, with
    /// the same boot server.
    @Test func nfsRootMenusMountTheHeadsMedium() {
        let pxelinux = Self.several.pxelinuxConfig(root: .nfs)
        #expect(pxelinux.components(separatedBy: "live.nfs=${pxeserver}:/run/live/medium/live").count == 4)
        #expect(pxelinux.components(separatedBy: "IPAPPEND 1").count == 4)
        let grub = Self.several.grubNetworkConfig(root: .nfs)
        #expect(grub.components(separatedBy: "live.nfs=${net_default_server}:/run/live/medium/live").count == 4)
        let ipxe = Self.several.ipxeScript(root: .nfs)
        #expect(ipxe.components(separatedBy: "live.nfs=${bootserver}:/run/live/medium/live\n").count == 4)
        for menu in [pxelinux, grub, ipxe] {
            #expect(!menu.contains("fetch="), "\(menu)")
        }
    }

    /// `pxe.nodes`: each listed MAC gets its own root in every loader: iPXE and GRUB branch on
    /// the MAC they booted with, PXELINUX reads the node's own file (written by ``PxeStage``).
    @Test func perNodeRootsBranchOnTheMAC() {
        let nodes = [Profile.Pxe.Node(mac: "52:54:00:4c:42:03", root: .nfs), Profile.Pxe.Node(mac: "52:54:00:4c:42:09", root: .http)]
        let ipxe = Self.several.ipxeScript(root: .http, nodes: nodes)
        #expect(ipxe.contains("iseq ${netX/mac} 52:54:00:4c:42:03 && goto node1 ||\niseq ${netX/mac} 52:54:00:4c:42:09 && goto node2 ||\n"))
        // The branches come before the default menu, whose first entry is the fall-through.
        let defaultMenu = ipxe.components(separatedBy: "\n\n:node1\n")
        #expect(defaultMenu.count == 2, "\(ipxe)")
        let nodeMenus = (defaultMenu.last ?? "").components(separatedBy: "\n\n:node2\n")
        #expect(nodeMenus.count == 2, "\(ipxe)")
        #expect(defaultMenu[0].components(separatedBy: "fetch=").count == 4 && !defaultMenu[0].contains("live.nfs="))
        #expect(nodeMenus[0].components(separatedBy: "live.nfs=${bootserver}:/run/live/medium/live\n").count == 4 && !nodeMenus[0].contains("fetch="))
        #expect(nodeMenus[0].contains(":node1-entry1\n") && (nodeMenus.last ?? "").contains(":node2-entry3\n"))
        #expect((nodeMenus.last ?? "").components(separatedBy: "fetch=").count == 4)
        let waiting = try! BootMenu(title: "t", timeoutSeconds: 3, entries: Self.several.entries)
        #expect(waiting.ipxeScript(nodes: nodes).contains("choose --default node1-entry1 --timeout 3000 target || goto node1-entry1"))

        let grub = Self.several.grubNetworkConfig(root: .http, nodes: nodes)
        #expect(grub.hasPrefix("# Generated by livebuild; edits are overwritten.\nif [ \"${net_default_mac}\" = \"52:54:00:4c:42:03\" ]; then configfile /grub/grub.cfg-01-52-54-00-4c-42-03; fi\n"))
        #expect(grub.contains("configfile /grub/grub.cfg-01-52-54-00-4c-42-09; fi\nserial --unit=1"))
        #expect(PxeLayout.pxelinuxNodeConfig(nodes[0]) == "pxelinux.cfg/01-52-54-00-4c-42-03")
        #expect(PxeLayout.grubNodeConfig(nodes[0]) == "grub/grub.cfg-01-52-54-00-4c-42-03")
        // Without nodes the menus are as they were (the golden files).
        #expect(Self.several.ipxeScript(root: .nfs, nodes: []) == Self.several.ipxeScript(root: .nfs))
        #expect(Self.several.grubNetworkConfig(nodes: []) == Self.several.grubNetworkConfig())
    }

    /// A head serves its own boot medium; a diskless node has none, so network menus leave out
    /// the entries that make a head (and keep them all if nothing else is left).
    @Test func networkMenusLeaveOutTheHeadEntry() throws {
        let menu = try BootMenu(title: "t", timeoutSeconds: 3, entries: [
            .init(label: "Node", kernelCommandLine: "console=ttyS0"),
            .init(label: "Head", kernelCommandLine: "console=ttyS0 cluster.role=head"),
        ])
        #expect(menu.isolinuxConfig().contains("cluster.role=head"), "the ISO keeps it")
        for network in [menu.pxelinuxConfig(), menu.grubNetworkConfig(), menu.ipxeScript()] {
            #expect(!network.contains("cluster.role=head") && !network.contains("Head") && network.contains("console=ttyS0"), "\(network)")
        }
        let onlyHead = try BootMenu(title: "t", timeoutSeconds: 0, entries: [.init(label: "Head", kernelCommandLine: "cluster.role=head")])
        #expect(onlyHead.ipxeScript().contains("cluster.role=head"))
    }

    /// Media a person hands to a machine load the cluster key as a second initramfs; the
    /// network menus, served to anyone on the LAN, never name it.
    @Test func onlyTheMediaMenusLoadTheKeyImage() throws {
        var menu = Self.several
        menu.mediaInitrds = [ClusterKeyImage.path]
        #expect(menu.isolinuxConfig().components(separatedBy: "INITRD /live/initrd.img,/livebuild/cluster-key.img\n").count == 4)
        #expect(menu.grubConfig().components(separatedBy: "initrd /live/initrd.img /livebuild/cluster-key.img\n").count == 4)
        for network in [menu.pxelinuxConfig(), menu.grubNetworkConfig(), menu.ipxeScript(), menu.pxelinuxConfig(root: .nfs)] {
            #expect(!network.contains("cluster-key") && !network.contains("livebuild/"), "\(network)")
        }
        #expect(Self.several.isolinuxConfig().contains("INITRD /live/initrd.img\n"), "without a key, one initramfs")
    }

    @Test func bothMenusUseTheSerialConsoleAndTheScreen() {
        let isolinux = Self.single.isolinuxConfig()
        #expect(isolinux.hasPrefix("SERIAL 0 115200\n"))
        #expect(isolinux.contains("UI menu.c32"))
        #expect(isolinux.contains("TIMEOUT 50"))
        let grub = Self.single.grubConfig()
        #expect(grub.contains("serial --unit=0 --speed=115200"))
        #expect(grub.contains("terminal_input serial console"))
        #expect(grub.contains("terminal_output serial console"))
        #expect(grub.contains("set timeout=5"))
        #expect(grub.contains("set default=0"))
    }

    @Test func zeroTimeoutBootsAtOnceInIsolinux() {
        // TIMEOUT 0 would make isolinux wait forever.
        #expect(Self.several.isolinuxConfig().contains("TIMEOUT 1\n"))
    }

    @Test func grubEscapesItsSyntax() {
        #expect(BootMenu.grubEscapedWords(#"a=$x b="c;d""#) == #"a=\$x b=\"c\;d\""#)
        #expect(BootMenu.grubQuoted("it's") == #"'it'\''s'"#)
    }

    @Test func rejectsInvalidMenus() {
        #expect(throws: BootMenu.Error.noEntries) { try BootMenu(title: "t", timeoutSeconds: 1, entries: []) }
        #expect(throws: BootMenu.Error.negativeTimeout(-1)) {
            try BootMenu(title: "t", timeoutSeconds: -1, entries: [.init(label: "a", kernelCommandLine: "")])
        }
        #expect(throws: BootMenu.Error.self) {
            try BootMenu(title: "t", timeoutSeconds: 1, entries: [.init(label: "a\nMENU HIDDEN", kernelCommandLine: "")])
        }
    }

    @Test func mediumIDs() throws {
        #expect(try MediumID("livebuild-1a2b3c4d").value == "LIVEBUILD-1A2B3C4D")
        #expect(throws: IsoWriter.Error.self) { try MediumID("") }
        #expect(throws: IsoWriter.Error.self) { try MediumID("has space") }
        #expect(throws: IsoWriter.Error.self) { try MediumID(String(repeating: "A", count: 33)) }
        #expect(IsoLayout.marker(for: try MediumID("x-1")) == "live/X-1.medium")
    }
}

/// Compares text with a file under Tests/UnitTests/Golden; rewrites the file instead when
/// LIVEBUILD_RECORD_GOLDEN=1.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ actual: String, against name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["LIVEBUILD_RECORD_GOLDEN"] == "1" {
            try Data(actual.utf8).write(to: url)
            return
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("golden file \(url.path) is missing; record it with LIVEBUILD_RECORD_GOLDEN=1", sourceLocation: sourceLocation)
            return
        }
        let expected = String(decoding: data, as: UTF8.self)
        #expect(actual == expected, "differs from \(url.path); re-record with LIVEBUILD_RECORD_GOLDEN=1 if intended", sourceLocation: sourceLocation)
    }
}
