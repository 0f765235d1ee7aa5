#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BootServer
import Jobs
import Logging

/// The head node's boot server (clusterd-head.service, started when the node configuration
/// makes this node the head): its own boot medium served as a PXE tree, dnsmasq for proxy DHCP
/// and TFTP, and HTTP for the kernel, initramfs and squashfs (Docs/pxe.md).
struct ServeBootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-boot",
        abstract: "Serve this node's boot medium to diskless nodes: dnsmasq (proxy DHCP, TFTP) and HTTP.")

    @Option(help: "The PXE tree to serve: the live medium, whose root holds the loaders.")
    var root = "/run/live/medium"

    @Option(help: "The interface to serve on (default: the first with an IPv4 address).")
    var interface: String?

    @Option(help: "Be the DHCP server and hand out FIRST,LAST (default: proxy DHCP beside the LAN's server).")
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
        let mode: DnsmasqConfiguration.Mode
        if let range {
            let parts = range.split(separator: ",").map(String.init)
            guard parts.count == 2 else { throw ValidationError("--range \(range): give FIRST,LAST") }
            mode = .full(first: parts[0], last: parts[1], netmask: "255.255.255.0")
        } else {
            mode = .proxy(network: address.network)
        }
        let state = "/run/clusterd/head"
        var dnsmasq = DnsmasqConfiguration(
            interface: address.interface, tftpRoot: root, mode: mode, leaseFile: state + "/dnsmasq.leases",
            pidFile: state + "/dnsmasq.pid", hasIPXEForUEFI: access(root + "/snponly.efi", R_OK) == 0)
        dnsmasq.logFacility = "DAEMON"
        _ = mkdir(state, 0o755)
        var logger = Logger(label: "clusterd.head")
        logger.logLevel = .info
        let http = try await HTTPFileServer.bind(root: root, host: address.address, port: 80, logger: logger)
        // systemd stops the whole unit's cgroup, dnsmasq included.
        let pid: pid_t
        do {
            pid = try Jobs.Command.spawn(["/usr/sbin/dnsmasq"] + dnsmasq.arguments(), log: state + "/dnsmasq.out")
        } catch {
            throw BootServerError("cannot start dnsmasq: \(error)")
        }
        logger.info("serving \(root) on \(address.interface) (\(address.address)): \(range.map { "DHCP \($0)" } ?? "proxy DHCP for \(address.network)"), TFTP, HTTP port 80")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await http.serve() }
            group.addTask {
                let exit = await Jobs.Reaper.shared.exit(of: pid)
                throw BootServerError("dnsmasq stopped (\(exit)); see \(state)/dnsmasq.out and the journal")
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
