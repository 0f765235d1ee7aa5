import Admission
import Agent
import ArgumentParser
import ClusterWire
import Logging
import ServiceLifecycle

/// Runs the agent until SIGTERM or SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the agent (the default).")

    @OptionGroup var node: NodeOptions

    @Option(help: "Use this node id (16 hex digits) instead of the one derived from the machine.")
    var nodeID: String?

    @Option(help: "Advertise this host name instead of the configured one.")
    var hostname: String?

    @Option(help: "Bind HOST:PORT (and advertise it) instead of 0.0.0.0 on the configured port.")
    var listen: String?

    @Option(help: "Static peers, comma-separated HOST[:PORT], replacing the configured ones.")
    var peers: String?

    @Flag(help: "Do not discover peers by multicast.")
    var noMulticast = false

    @Option(help: "The control socket.")
    var controlSocket: String?

    @Option(help: "The group allowed to use the control socket besides root.")
    var controlGroup: String?

    @Option(help: "A directory every node sees as the same storage (a cluster filesystem the image did not set up): jobs started there may be placed on other nodes. Default: the shared directory the node exports or has mounted.")
    var sharedDirectory: String?

    @Option(help: "Where jobs keep their directories.")
    var jobsDirectory = "/var/lib/clusterd/jobs"

    @Option(help: "Without a key file: ask this head (HOST[:PORT], the agent port + 1 by default) to admit the node. Default: the server the node booted from (fetch= or live.nfs= on the kernel command line).")
    var admissionServer: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        if let nodeID, UInt64(nodeID, radix: 16) == nil {
            throw ValidationError("--node-id \(nodeID): expected up to 16 hex digits")
        }
        if let listen { _ = try Agent.PeerAddress.parse(listen, defaultPort: Agent.defaultPort) }
    }

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "clusterd")
        var (section, resolved) = try node.resolve()
        // `clusterd configure` made this node the head (also when run again by hand with
        // cluster.role=head, as `livebuild cluster up` does): the agent follows it, and admits
        // diskless nodes.
        if resolved.role.value != .head, Agent.HostFacts.text(Agent.Configurator.headMarker) != nil {
            resolved.role = .init(.head, .kernel(parameter: "cluster.role=head (clusterd configure)"))
        }
        let overrides = Agent.SettingsLoader.Overrides(
            nodeID: nodeID.flatMap { UInt64($0, radix: 16) },
            hostname: hostname,
            listen: try listen.map { try Agent.PeerAddress.parse($0, defaultPort: Agent.defaultPort) },
            peers: peers.map { $0.split(separator: ",").map(String.init) },
            multicast: noMulticast ? false : nil,
            controlSocket: controlSocket, controlGroup: controlGroup, sharedDirectory: sharedDirectory)
        let key: [UInt8]
        if let existing = try node.clusterKeyIfPresent() {
            key = existing
        } else {
            // No key (a diskless node: the image served to the network carries none): ask the
            // head, then keep what it seals for us where the agent reads its key.
            let provisional = try Agent.SettingsLoader.settings(
                section: section, node: resolved, clusterKey: [UInt8](repeating: 0, count: 32), overrides: overrides)
            let port = provisional.port &+ Admission.portOffset
            guard let server = try admissionServer.map({ try Agent.PeerAddress.parse($0, defaultPort: port) })
                    ?? node.bootServer().map({ Wire.Address(host: $0, port: port) }) else {
                throw Agent.Failure("cannot read the cluster key \(node.keyFile) and there is no head to ask: boot from the cluster's medium, from the head over the network, or pass --admission-server")
            }
            let applicant = Admission.Applicant(
                node: provisional.nodeID.description, hostname: provisional.hostname,
                macs: provisional.interfaceMAC.map { [$0.lowercased()] } ?? [], serial: Admission.Request.cleanSerial(Agent.HostFacts.read().dmiSerial))
            key = try await Agent.AdmissionClient.obtainKey(
                server: server, applicant: applicant, cluster: provisional.clusterName, logger: logger)
            try Agent.AdmissionClient.write(key, to: node.keyFile)
        }
        let settings = try Agent.SettingsLoader.settings(section: section, node: resolved, clusterKey: key, overrides: overrides)
        var service = Agent.Service(settings: settings, logger: logger)
        service.jobsDirectory = jobsDirectory
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
