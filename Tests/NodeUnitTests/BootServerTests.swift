import Foundation
import Testing
@testable import BootServer

/// `livebuild serve`'s pieces: dnsmasq's command line in both DHCP modes, and the HTTP file
/// server's path rules (nothing outside the tree is ever served).
@Suite struct BootServerTests {
    static func configuration(_ mode: DnsmasqConfiguration.Mode, uefiIPXE: Bool = false) -> DnsmasqConfiguration {
        DnsmasqConfiguration(interface: "br0", tftpRoot: "/srv/pxe", mode: mode, leaseFile: "/run/l", pidFile: "/run/p", hasIPXEForUEFI: uefiIPXE)
    }

    @Test func fullDHCPHandsEachClientItsLoader() {
        let arguments = Self.configuration(.full(first: "10.77.0.10", last: "10.77.0.200", netmask: "255.255.255.0")).arguments()
        for expected in [
            "--port=0", "--conf-file=/dev/null", "--interface=br0", "--bind-interfaces", "--enable-tftp", "--tftp-root=/srv/pxe",
            "--dhcp-range=10.77.0.10,10.77.0.200,255.255.255.0,12h", "--dhcp-userclass=set:ipxe,iPXE",
            "--dhcp-boot=tag:ipxe,boot.ipxe", "--dhcp-boot=tag:efi64,tag:!ipxe,grubx64.efi", "--dhcp-boot=tag:!efi64,tag:!ipxe,lpxelinux.0",
            "--keep-in-foreground",
        ] {
            #expect(arguments.contains(expected), "\(expected) in \(arguments)")
        }
        #expect(!arguments.contains { $0.contains("proxy") })
    }

    @Test func proxyDHCPLeavesAddressesToTheSiteServer() {
        let plain = Self.configuration(.proxy(network: "10.77.0.0", server: "10.77.0.99")).arguments()
        #expect(plain.contains("--dhcp-range=10.77.0.0,proxy"))
        #expect(plain.contains("--pxe-service=tag:!ipxe,x86PC,livebuild (BIOS),lpxelinux"))
        #expect(plain.contains("--dhcp-boot=tag:ipxe,boot.ipxe,,10.77.0.99"), "legacy iPXE needs next-server in the proxy offer")
        #expect(!plain.contains { $0.hasPrefix("--dhcp-authoritative") || $0.contains("grubx64") }, "GRUB 2.06 cannot boot from a proxy offer")
        #expect(!plain.contains { $0.contains("snponly") })
        let withIPXE = Self.configuration(.proxy(network: "10.77.0.0", server: "10.77.0.99"), uefiIPXE: true).arguments()
        #expect(withIPXE.contains("--pxe-service=tag:!ipxe,x86-64_EFI,livebuild (UEFI),snponly.efi"))
    }

    @Test func sharedDirectorySettings() throws {
        #expect(try SharedDirectory(line: "mount 10.77.0.99 /home") == .mount(server: "10.77.0.99", path: "/home"))
        #expect(throws: BootServerError.self) { try SharedDirectory(line: "mount /home") }
        #expect(try SharedDirectory(line: "discover /home") == .discover(path: "/home"))
        #expect(SharedDirectory.host(ofAgentAddress: "10.77.0.99:7946") == "10.77.0.99")
        #expect(SharedDirectory.host(ofAgentAddress: "[fd00::1]:7946") == "fd00::1")
        #expect(throws: BootServerError.self) { try SharedDirectory(line: "export home") }
        #expect(SharedDirectory.mountArguments(server: "10.77.0.99", path: "/home")
                == ["/usr/bin/mount", "-t", "nfs4", "-o", "hard,noatime,nosuid,nodev,retry=0", "10.77.0.99:/", "/home"])
        #expect(SharedDirectory.mountArguments(server: "fd00::1", path: "/home")[5] == "[fd00::1]:/")
    }

    /// The head's exports: each member alone, root squashed, never a whole network.
    @Test func exportsListEachMemberAlone() {
        let options = "(sec=sys,rw,sync,no_subtree_check,root_squash,fsid=0)"
        let text = SharedDirectory.exportsText(path: "/home", clients: ["10.77.0.5", "10.77.0.12"])
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        #expect(lines == ["/home 10.77.0.5/32\(options) 10.77.0.12/32\(options)"])
        #expect(!text.contains("no_root_squash") && !text.contains("all_squash") && !text.contains("/24"))

        // No member known (the agent has not answered): exported to nobody.
        let nobody = SharedDirectory.exportsText(path: "/home", clients: [])
        #expect(nobody.split(separator: "\n").allSatisfy { $0.hasPrefix("#") }, "\(nobody)")
    }

    @Test(arguments: [
        (["10.77.0.12:7946", "10.77.0.5:7946", "10.77.0.5:7947"], ["10.77.0.5", "10.77.0.12"]),
        (["10.77.0.9:7946", "[fd00::1]:7946", "head:7946", "10.77.0.300:7946", "10.77.0:7946", "1.2.3.4.5:1"], ["10.77.0.9"]),
        (["192.168.1.2:7946", "10.0.0.1:7946", "10.0.0.010:7946"], ["10.0.0.1", "10.0.0.10", "192.168.1.2"]),
        ([], []),
    ])
    func exportClientsAreTheMembersIPv4Hosts(addresses: [String], clients: [String]) {
        #expect(SharedDirectory.exportClients(agentAddresses: addresses) == clients)
    }

    /// A member missing for a moment keeps its export; one gone for the grace period loses it.
    @Test func aMissingMemberKeepsTheExportForTheGracePeriod() {
        var clients = SharedDirectory.ExportClients()
        let start = ContinuousClock.now
        #expect(clients.update(listed: ["10.77.0.2", "10.77.0.3"], now: start) == ["10.77.0.2", "10.77.0.3"])
        #expect(clients.update(listed: ["10.77.0.2"], now: start + .seconds(30)) == ["10.77.0.2", "10.77.0.3"])
        #expect(clients.update(listed: ["10.77.0.2"], now: start + .seconds(61)) == ["10.77.0.2"])
        #expect(clients.update(listed: [], now: start + .seconds(125)) == [])
    }

    @Test func pathsNeverLeaveTheTree() throws {
        let root = FileManager.default.temporaryDirectory.path + "/boot-server-\(getpid())"
        try FileManager.default.createDirectory(atPath: root + "/tree/live", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data("k".utf8).write(to: URL(fileURLWithPath: root + "/tree/live/vmlinuz"))
        try Data("secret".utf8).write(to: URL(fileURLWithPath: root + "/secret"))
        try FileManager.default.createSymbolicLink(atPath: root + "/tree/out", withDestinationPath: root + "/secret")
        let tree = try HTTPFileServer.realPath(root + "/tree")
        #expect(HTTPFileServer.resolve("/live/vmlinuz", under: tree) == tree + "/live/vmlinuz")
        #expect(HTTPFileServer.resolve("/live/vmlinuz?x=1", under: tree) == tree + "/live/vmlinuz")
        #expect(HTTPFileServer.resolve("/%6Cive/vmlinuz", under: tree) == tree + "/live/vmlinuz")
        for escape in ["/../secret", "/live/../../secret", "/%2e%2e/secret", "/out", "live/vmlinuz", "/%zz", "/missing"] {
            #expect(HTTPFileServer.resolve(escape, under: tree) == nil, "\(escape) is refused")
        }
    }
}
