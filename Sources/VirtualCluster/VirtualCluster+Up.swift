import Foundation
import HostTools
import Logging
import Qemu

extension VirtualCluster {
    /// Starts the cluster `configuration` describes and returns when every node's guest agent
    /// answers, or throws after removing everything it started.
    ///
    /// As root: creates the run directory (0700), the namespace with its bridge and taps,
    /// dnsmasq and one daemonized QEMU per node, and writes the state file. Relative paths are
    /// taken from the current directory.
    ///
    /// Nodes that boot from the network start only once the others answer and
    /// `beforeNetworkBoot` has run (it makes one of them the head that serves them).
    ///
    /// - Parameter timeout: how long the nodes may take to boot, from the first QEMU's start
    ///   (for network-boot nodes, from theirs).
    public static func up(
        _ configuration: Configuration,
        timeout: Duration = .seconds(300),
        logger: Logger = Logger(label: "livebuild.cluster"),
        beforeNetworkBoot: (@Sendable (Controller) async throws -> Void)? = nil,
        onEvent: @escaping @Sendable (Event) -> Void = { _ in }
    ) async throws -> Controller {
        try Host.requireRoot("starting a virtual cluster")
        let currentDirectory = FileManager.default.currentDirectoryPath
        var configuration = configuration
        configuration.runDirectory = Plan.absolute(configuration.runDirectory, in: currentDirectory)
        for index in configuration.nodes.indices where !configuration.nodes[index].networkBoot {
            let image = Plan.absolute(configuration.nodes[index].image, in: currentDirectory)
            guard FileManager.default.isReadableFile(atPath: image) else {
                throw Error(.configuration, "node\(index + 1): image \(image) does not exist or is not readable")
            }
            configuration.nodes[index].image = image
        }
        let plan = try Plan(configuration, accelerator: configuration.accelerator ?? Qemu.Accelerator.probe(logger: logger))
        try Host.requireTools(["ip", "dnsmasq", Qemu.systemBinary])
        if Host.namespaceExists(plan.namespace) || !Host.clusterProcesses(runDirectory: plan.runDirectory).isEmpty {
            throw Error(.state, "a cluster is already running from \(plan.runDirectory) (namespace \(plan.namespace)); run `livebuild cluster down --run-dir \(plan.runDirectory)` first")
        }
        if case .uefi(let ovmf) = plan.firmware {
            for path in [ovmf.code, ovmf.varsTemplate] where !FileManager.default.fileExists(atPath: path) {
                throw Error(.tool, "UEFI firmware \(path) is missing; install the Debian package 'ovmf'")
            }
        }
        try Host.prepareRunDirectory(plan.runDirectory)
        removeRunFiles(runDirectory: plan.runDirectory)

        let tools = ToolRunner(logger: logger)
        var pids: [String: Int32] = [:]
        var firstStart: ContinuousClock.Instant?
        do {
            for command in plan.networkCommands {
                try await Host.run(command, tools: tools)
            }
            onEvent(.networkReady(namespace: plan.namespace))

            try await Host.run(plan.dnsmasqCommand, tools: tools)
            guard let dnsmasq = Host.pid(inFile: plan.dnsmasqPidFile) else {
                throw Error(.tool, "dnsmasq started but wrote no pid file (\(plan.dnsmasqPidFile)); see \(plan.dnsmasqLog)")
            }
            onEvent(.dhcpStarted(pid: dnsmasq))

            func start(_ node: Node) async throws {
                var node = node
                if let vars = node.uefiVars, case .uefi(let ovmf) = plan.firmware(for: node) {
                    do {
                        try FileManager.default.copyItem(atPath: ovmf.varsTemplate, toPath: vars)
                    } catch {
                        throw Error(.tool, "cannot copy the UEFI variable store for \(node.name)", underlying: error)
                    }
                }
                firstStart = firstStart ?? .now
                try await Host.run(plan.qemuCommand(for: node), tools: tools)
                guard let pid = Host.pid(inFile: node.pidFile) else {
                    throw Error(.boot, "\(node.name): QEMU daemonized but wrote no pid file (\(node.pidFile))")
                }
                pids[node.name] = pid
                node.pid = pid
                try write(plan.state(pids: pids), to: plan.stateFile)
                onEvent(.nodeStarted(node))
            }
            for node in plan.nodes where node.networkBoot != true {
                try await start(node)
            }
            // Only the nodes started so far: the network-boot ones are not running yet.
            var started = plan.state(pids: pids)
            started.nodes = started.nodes.filter { $0.pid != nil }
            var controller = Controller(state: started)
            try await controller.waitUntilReady(deadline: (firstStart ?? .now) + timeout, since: firstStart ?? .now, onEvent: onEvent)
            let diskless = plan.nodes.filter { $0.networkBoot == true }
            if !diskless.isEmpty {
                try await beforeNetworkBoot?(controller)
                let networkStart = ContinuousClock.now
                for (index, node) in diskless.enumerated() {
                    if index > 0 && configuration.networkBootInterval > .zero {
                        try await Task.sleep(for: configuration.networkBootInterval)
                    }
                    try await start(node)
                }
                controller = Controller(state: plan.state(pids: pids))
                // A node whose firmware gave up is power-cycled, as an operator (or a PDU
                // script) would: at most `maxPowerCycles` times, its failed console log kept.
                var cycles: [String: Int] = [:]
                while true {
                    do {
                        try await controller.waitUntilReady(deadline: networkStart + timeout, since: networkStart, onEvent: onEvent)
                        break
                    } catch let stuck as FirmwareGaveUp {
                        let count = cycles[stuck.node.name, default: 0] + 1
                        guard count <= configuration.maxPowerCycles else {
                            throw Error(.boot, "\(stuck.node.name): the firmware gave up network boot \(count) times (\(stuck.line)); see \(stuck.node.consoleLog) and the dnsmasq logs")
                        }
                        cycles[stuck.node.name] = count
                        try await controller.kill(stuck.node.name)
                        let fileManager = FileManager.default
                        let kept = "\(stuck.node.consoleLog).failed\(count)"
                        try? fileManager.removeItem(atPath: kept)
                        try? fileManager.moveItem(atPath: stuck.node.consoleLog, toPath: kept)
                        if let vars = stuck.node.uefiVars { try? fileManager.removeItem(atPath: vars) }
                        onEvent(.powerCycled(name: stuck.node.name, reason: stuck.line, consoleLog: kept))
                        try await start(plan.nodes.first { $0.name == stuck.node.name } ?? stuck.node)
                        controller = Controller(state: plan.state(pids: pids))
                    }
                }
            }
            return controller
        } catch {
            let reason = (error as? VirtualCluster.Error)?.description ?? String(describing: error)
            onEvent(.tearingDown(reason: reason))
            let tails = consoleTails(plan.nodes.filter { pids[$0.name] != nil })
            _ = try? await down(runDirectory: plan.runDirectory, logger: logger)
            var failure = (error as? VirtualCluster.Error) ?? Error(.boot, "starting the cluster failed", underlying: error)
            if !tails.isEmpty { failure.message += "; everything started was removed. Console logs:\n" + tails }
            throw failure
        }
    }

    /// The last `lines` lines of each node's console log, headed by the node and the log's path.
    public static func consoleTails(_ nodes: [Node], lines: Int = 20) -> String {
        nodes.map { node in
            let text = FileManager.default.contents(atPath: node.consoleLog).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return "--- \(node.name) (\(node.consoleLog)), last lines:\n" + Qemu.ConsoleLog.tail(of: text, lines: lines)
        }.joined(separator: "\n")
    }

    static func write(_ state: State, to path: String) throws(VirtualCluster.Error) {
        do {
            try state.encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch let error as VirtualCluster.Error {
            throw error
        } catch {
            throw Error(.state, "cannot write \(path)", underlying: error)
        }
    }

    /// Files of an earlier run that would confuse this one (pid files, sockets, the state file);
    /// console logs, the dnsmasq log and built images stay.
    static func removeRunFiles(runDirectory: String) {
        let fileManager = FileManager.default
        let names = (try? fileManager.contentsOfDirectory(atPath: runDirectory)) ?? []
        for name in names where name == "cluster.json" || name == "dnsmasq.pid" || (name.hasPrefix("node") && (
            name.hasSuffix(".pid") || name.hasSuffix(".qga") || name.hasSuffix(".qga.lock") || name.hasSuffix(".OVMF_VARS.fd"))) {
            try? fileManager.removeItem(atPath: runDirectory + "/" + name)
        }
    }
}
