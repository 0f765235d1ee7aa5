import Glibc
import Logging
import Processes
import ServiceLifecycle

/// Serving one PXE tree: dnsmasq (DHCP or proxy DHCP, and TFTP) and the HTTP file server, as a
/// swift-service-lifecycle service. `livebuild serve` runs it on a build host,
/// `clusterd serve-boot` on the head node. It runs until graceful shutdown (SIGTERM, SIGINT),
/// then stops dnsmasq and waits for it; it fails when dnsmasq stops by itself.
public struct BootSession: Service {
    public var dnsmasq: DnsmasqConfiguration
    /// dnsmasq's program.
    public var dnsmasqPath: String
    /// Where dnsmasq's stdout and stderr go (a file, or `/dev/stderr`).
    public var dnsmasqOutput: String
    public var address: InterfaceAddress
    public var httpPort: Int
    public let logger: Logger

    public init(dnsmasq: DnsmasqConfiguration, dnsmasqPath: String, dnsmasqOutput: String, address: InterfaceAddress, httpPort: Int = 80, logger: Logger) {
        self.dnsmasq = dnsmasq
        self.dnsmasqPath = dnsmasqPath
        self.dnsmasqOutput = dnsmasqOutput
        self.address = address
        self.httpPort = httpPort
        self.logger = logger
    }

    /// One line for the log: what is served where.
    public var summary: String {
        let dhcp = switch dnsmasq.mode {
        case .full(let first, let last, _): "DHCP \(first)-\(last)"
        case .proxy(let network, _): "proxy DHCP for \(network)"
        }
        return "serving \(dnsmasq.tftpRoot) on \(address.interface) (\(address.address)): \(dhcp), TFTP, HTTP port \(httpPort)"
    }

    public func run() async throws {
        let http = try await HTTPFileServer.bind(root: dnsmasq.tftpRoot, host: address.address, port: httpPort, logger: logger)
        // dnsmasq stays in the foreground, a child of this process, and is waited for alone
        // (``Processes/Reaper``): no subreaper and no thread that reaps every child, which
        // `livebuild serve` does not need.
        let pid: pid_t
        do {
            pid = try Processes.spawn([dnsmasqPath] + dnsmasq.arguments(), descriptors: Processes.output(to: dnsmasqOutput))
        } catch {
            throw BootServerError("cannot start \(dnsmasqPath): \(error)")
        }
        logger.info("\(summary)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await http.serve() } catch is CancellationError {}
            }
            group.addTask {
                let exit = await Processes.Reaper.shared.exit(of: pid)
                if Task.isCancelled { return }
                throw BootServerError("dnsmasq stopped (\(exit)); see \(dnsmasqOutput == "/dev/stderr" ? "its messages above" : dnsmasqOutput)")
            }
            group.addTask {
                // Until SIGTERM or SIGINT reaches the service group.
                try? await gracefulShutdown()
            }
            // The first task to end decides: shutdown (returns) or dnsmasq's exit (throws).
            defer {
                kill(pid, SIGTERM)
                group.cancelAll()
            }
            try await group.next()
            logger.info("stopping: dnsmasq and the HTTP server")
        }
    }
}
