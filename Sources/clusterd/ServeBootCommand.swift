#if canImport(Glibc)
import Glibc
#endif
import Agent
import ArgumentParser
import BootServer
import Logging
import ServiceLifecycle

/// The head node's boot server (clusterd-head.service, started when the node configuration
/// makes this node the head): the PXE tree of its own boot medium (``ServedTree``: nothing else
/// of it, so never the cluster key), dnsmasq for proxy DHCP and TFTP, and HTTP for the kernel,
/// initramfs and squashfs (Docs/pxe.md).
struct ServeBootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-boot",
        abstract: "Serve this node's boot medium to diskless nodes: dnsmasq (proxy DHCP, TFTP) and HTTP.")

    @Option(help: "The PXE tree to serve: the live medium, whose root holds the loaders.")
    var root = "/run/live/medium"

    @Option(help: "The interface to serve on (default: the first with an IPv4 address).")
    var interface: String?

    @Option(help: "Be the DHCP server and hand out FIRST,LAST[,NETMASK] (default: the profile's cluster.head.dhcpRange, else proxy DHCP beside the LAN's server).")
    var range: String?

    @Option(help: "Seconds to wait for an IPv4 address.")
    var waitForAddress = 120

    func run() async throws {
        var info = stat()
        guard stat(root + "/boot.ipxe", &info) == 0 else {
            throw BootServerError("\(root) holds no PXE tree (no boot.ipxe): boot the head from the ISO, without toram (the medium must stay mounted), or name a tree with --root")
        }
        var address = InterfaceAddress.find(interface)
        var waited = 0
        while address == nil && waited < waitForAddress * 10 {
            usleep(100_000)
            waited += 1
            address = InterfaceAddress.find(interface)
        }
        guard let address else {
            throw BootServerError("no IPv4 address on \(interface ?? "any interface") after \(waitForAddress) s; the head serves the network it is on")
        }
        if let script = Agent.HostFacts.text(root + "/boot.ipxe"), SharedDirectory.treeMountsOverNFS(ipxeScript: script) {
            try await exportOverNFS(address)
        }
        // The servers see only the PXE tree's entries of the medium, never the cluster key
        // beside them (Docs/security.md).
        let state = "/run/clusterd/head"
        _ = mkdir(state, 0o755)
        let served = try ServedTree.prepare(medium: root, view: ServedTree.defaultView)
        defer { ServedTree.release(view: ServedTree.defaultView) }
        SharedDirectory.Service.say("clusterd serve-boot: serving \(served.joined(separator: " ")) of \(root) from \(ServedTree.defaultView)")
        let tree = ServedTree.defaultView
        let mode: DnsmasqConfiguration.Mode
        // `clusterd configure` leaves the profile's range (cluster.head.dhcpRange) here.
        if let range = range ?? Agent.HostFacts.text(Agent.Configurator.dhcpRangeFile).flatMap({ $0.split(separator: "\n").first.map(String.init) }) {
            let parts = range.split(separator: ",").map(String.init)
            guard (2...3).contains(parts.count) else { throw ValidationError("DHCP range \(range): give FIRST,LAST or FIRST,LAST,NETMASK") }
            mode = .full(first: parts[0], last: parts[1], netmask: parts.count == 3 ? parts[2] : "255.255.255.0")
        } else {
            mode = .proxy(network: address.network, server: address.address)
        }
        var dnsmasq = DnsmasqConfiguration(
            interface: address.interface, tftpRoot: tree, mode: mode, leaseFile: state + "/dnsmasq.leases",
            pidFile: state + "/dnsmasq.pid", hasIPXEForUEFI: access(tree + "/snponly.efi", R_OK) == 0)
        dnsmasq.logFacility = "DAEMON"
        var logger = Logger(label: "clusterd.head")
        logger.logLevel = .info
        let session = BootSession(
            dnsmasq: dnsmasq, dnsmasqPath: "/usr/sbin/dnsmasq", dnsmasqOutput: state + "/dnsmasq.out", address: address, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: session)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The tree's menus pass `live.nfs=`: export the medium's live/ directory (nothing else of
    /// it) read-only over NFSv3 to the network served, and start the NFS server (the image does
    /// not start it at boot).
    private func exportOverNFS(_ address: InterfaceAddress) async throws {
        let live = root + "/live"
        try await SharedDirectory.Service.publish(
            SharedDirectory.mediumExportsLine(path: live, network: address.network, prefixLength: address.prefixLength),
            to: SharedDirectory.mediumExportsFile, starting: ["rpcbind.socket", "nfs-server.service"])
        SharedDirectory.Service.say("clusterd serve-boot: exporting \(live) read-only to \(address.network)/\(address.prefixLength) over NFSv3 (the menus boot diskless nodes with live.nfs=)")
    }
}
