import ArgumentParser
import BootServer
import Foundation
import Logging
import ServiceLifecycle
import NodeConfig

/// `livebuild serve OUTDIR`: boots diskless machines from a build's PXE tree, from this host.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a build's PXE tree: DHCP and TFTP through dnsmasq, HTTP for the live files (Docs/pxe.md).",
        discussion: """
            Proxy DHCP by default: the network's own DHCP server keeps handing out addresses and \
            this host only tells PXE clients where to boot from. --range makes it the DHCP server \
            of an isolated cluster LAN instead. Needs root (DHCP, TFTP and HTTP ports) and dnsmasq. \
            Stops on Ctrl-C or SIGTERM.
            """)

    @Argument(help: "A build's output directory (holding pxe/), or a PXE tree itself.")
    var directory: String

    @Option(help: "The network interface to serve on (e.g. eth0, br0).")
    var interface: String

    @Option(help: "Be the DHCP server and hand out FIRST,LAST[,NETMASK] (default netmask 255.255.255.0).")
    var range: String?

    @Option(help: "HTTP port; the tree's menus name port 80.")
    var httpPort = 80

    func validate() throws {
        if let range {
            guard NodeConfig.Rules.isDHCPRange(range) else {
                throw ValidationError("--range \(range): give FIRST,LAST or FIRST,LAST,NETMASK as IPv4 addresses, e.g. 10.77.0.10,10.77.0.200")
            }
        }
        guard (1...65535).contains(httpPort) else { throw ValidationError("--http-port \(httpPort) is not a port") }
    }

    func run() async throws {
        do {
            try await serve()
        } catch {
            throw Failure.report(error)
        }
    }

    func serve() async throws {
        let tree = try Self.tree(in: directory)
        if let script = FileManager.default.contents(atPath: tree + "/boot.ipxe"),
           SharedDirectory.treeMountsOverNFS(ipxeScript: String(decoding: script, as: UTF8.self)) {
            throw BootServerError("\(tree) was built with \"pxe\": {\"root\": \"nfs\"}: its menus mount the squashfs over NFS from /run/live/medium, which only a head booted from the ISO exports; serve builds with the default root (\"http\") from here, or boot a head from this build's ISO")
        }
        guard let address = InterfaceAddress.find(interface) else {
            throw BootServerError("interface \(interface) has no IPv4 address; give it one (ip addr add ... dev \(interface)) or name another with --interface")
        }
        let mode: DnsmasqConfiguration.Mode
        if let range {
            let parts = range.split(separator: ",").map(String.init)
            mode = .full(first: parts[0], last: parts[1], netmask: parts.count > 2 ? parts[2] : "255.255.255.0")
        } else {
            mode = .proxy(network: address.network, server: address.address)
        }
        let run = FileManager.default.temporaryDirectory.path + "/livebuild-serve-\(getpid())"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: run) }
        let configuration = DnsmasqConfiguration(
            interface: interface, tftpRoot: tree, mode: mode, leaseFile: run + "/leases", pidFile: run + "/dnsmasq.pid",
            hasIPXEForUEFI: FileManager.default.fileExists(atPath: tree + "/snponly.efi"))
        var logger = Logger(label: "livebuild.serve")
        logger.logLevel = .info
        let session = BootSession(
            dnsmasq: configuration, dnsmasqPath: try Self.locate("dnsmasq"), dnsmasqOutput: "/dev/stderr",
            address: address, httpPort: httpPort, logger: logger)
        print(session.summary)
        // Until SIGINT or SIGTERM (then dnsmasq is stopped), or until dnsmasq stops by itself.
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: session)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The PXE tree: `directory/pxe`, or `directory` itself when it holds boot.ipxe.
    static func tree(in directory: String) throws -> String {
        for candidate in [directory + "/pxe", directory] where FileManager.default.fileExists(atPath: candidate + "/boot.ipxe") {
            return URL(fileURLWithPath: candidate).standardizedFileURL.path
        }
        throw BootServerError("\(directory) holds no PXE tree (no pxe/boot.ipxe); build one with \"outputs\": [\"iso\", \"pxe\"] in the profile")
    }

    static func locate(_ program: String) throws -> String {
        for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] where FileManager.default.isExecutableFile(atPath: directory + "/" + program) {
            return directory + "/" + program
        }
        throw BootServerError("\(program) is not installed; apt-get install dnsmasq-base")
    }

}
