import ArgumentParser
import Foundation
import LiveBuild
import Profile
import Qemu
import VirtualCluster

struct ClusterUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Boot N nodes from an ISO (or from a profile, built first) on a private network.",
        discussion: """
            Returns when every node's guest agent answers, printing each node's MAC and console log. \
            The VMs keep running after this command ends; stop them with `livebuild cluster down`. \
            A profile (.json) is built into RUNDIR/image first, as `livebuild make` would.
            """
    )

    @Argument(help: "An ISO, or a profile (.json) to build first.")
    var image: String

    @Option(help: "Number of nodes (1 to \(VirtualCluster.maximumNodes)).")
    var nodes: Int

    @Option(help: "Memory per node in MiB.")
    var memory = 1024

    @Option(help: "Virtual CPUs per node.")
    var cpus = 1

    @Flag(help: "Boot with UEFI firmware (OVMF) instead of BIOS (SeaBIOS).")
    var uefi = false

    @Flag(help: "Node 1 boots the ISO and becomes the head; the others have no disk and boot from it over the network (SeaBIOS and OVMF in turn).")
    var pxe = false

    @Flag(help: "With --pxe: leave the diskless nodes waiting for `cluster admit` on the head instead of admitting them (they boot without the cluster key).")
    var manualAdmission = false

    @Option(help: "Seconds the nodes may take to boot until their guest agents answer.")
    var timeout = 300

    @Option(help: "Cache directory for base root filesystems when building a profile (default: $LIVEBUILD_CACHE or ~/.cache/livebuild).")
    var cache: String?

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (1...VirtualCluster.maximumNodes).contains(nodes) else {
            throw ValidationError("--nodes \(nodes): give 1 to \(VirtualCluster.maximumNodes)")
        }
        guard memory >= 256 else { throw ValidationError("--memory \(memory): give at least 256 MiB") }
        guard (1...64).contains(cpus) else { throw ValidationError("--cpus \(cpus): give 1 to 64") }
        guard timeout > 0 else { throw ValidationError("--timeout \(timeout): give a number of seconds above 0") }
        guard !manualAdmission || pxe else { throw ValidationError("--manual-admission is for --pxe: only diskless nodes wait for admission") }
        guard !pxe || nodes >= 2 else { throw ValidationError("--pxe needs at least 2 nodes: the head and one diskless node") }
        guard FileManager.default.isReadableFile(atPath: image) else {
            throw ValidationError("\(image) does not exist or is not readable")
        }
    }

    func run() async throws {
        do {
            let runDirectory = VirtualCluster.Plan.absolute(cluster.runDir, in: FileManager.default.currentDirectoryPath)
            let iso = image.hasSuffix(".json") ? try await build(into: runDirectory + "/image") : image
            let firmware: Qemu.Firmware = uefi ? .uefi(try Qemu.OVMF.installed()) : .bios
            var configuration = VirtualCluster.Configuration(
                runDirectory: runDirectory, image: iso, count: nodes, memoryMiB: memory, cpus: cpus, firmware: firmware)
            if pxe {
                // Diskless nodes alternate firmware: node2 SeaBIOS, node3 OVMF, node4 SeaBIOS, ...
                configuration.nodes = [.init(image: iso)] + (1..<nodes).map { .network(uefi: $0 % 2 == 0) }
            }
            let controller = try await VirtualCluster.up(
                configuration, timeout: .seconds(timeout), logger: common.logger("livebuild.cluster"),
                beforeNetworkBoot: { cluster in
                    FileHandle.standardError.write(Data("cluster: node1 becomes the head and serves the diskless nodes\n".utf8))
                    try await VirtualCluster.makeHead(cluster, node: "node1")
                },
                onEvent: { Self.show($0) })
            let diskless = controller.state.nodes.filter { $0.networkBoot == true }
            if !diskless.isEmpty {
                if manualAdmission {
                    FileHandle.standardError.write(Data("cluster: the diskless nodes wait for admission: on node1, `cluster pending` and `cluster admit MAC`\n".utf8))
                } else {
                    // Network boots carry no cluster key; these MACs are the cluster's own.
                    for entry in try await VirtualCluster.admit(controller, head: "node1", nodes: diskless) {
                        FileHandle.standardError.write(Data("cluster: node1 admitted \(entry.hostname) (\(entry.macs.joined(separator: ",")), key fingerprint \(entry.fingerprint))\n".utf8))
                    }
                }
            }
            FileHandle.standardOutput.write(Data(Self.table(controller.state).utf8))
        } catch {
            throw Failure.report(error)
        }
    }

    /// Builds the profile `image` into `output` (the code path of `livebuild make`); returns the ISO.
    private func build(into output: String) async throws -> String {
        try VirtualCluster.requireRoot("starting a virtual cluster")
        let loaded = try ProfileLoader.load(path: image)
        let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0) }
            ?? Int64(Date().timeIntervalSince1970)
        let reporter = ProgressReporter(interactive: isatty(2) != 0)
        let builder = Builder(
            profile: loaded, output: output, cacheDirectory: cache ?? Builder.defaultCacheDirectory, sourceDateEpoch: epoch,
            logger: common.logger("livebuild.make"), onEvent: { reporter.handle($0) })
        try await builder.build()
        return output + "/\(loaded.name).iso"
    }

    private static func show(_ event: VirtualCluster.Event) {
        let line: String
        switch event {
        case .networkReady(let namespace): line = "network namespace \(namespace) ready (bridge, taps)"
        case .dhcpStarted(let pid): line = "dnsmasq (DHCP) running, pid \(pid)"
        case .nodeStarted(let node): line = "\(node.name) started (QEMU pid \(node.pid.map(String.init) ?? "?"))"
        case .nodeReady(let name, let after): line = "\(name) ready after \(BenchCommand.fixed(after.seconds, places: 1)) s"
        case .powerCycled(let name, let reason, let log): line = "\(name): firmware gave up (\(reason)); power-cycled it (failed attempt's console: \(log))"
        case .tearingDown: line = "failed; removing what was started"
        case .stopped, .namespaceRemoved: return
        }
        FileHandle.standardError.write(Data("cluster: \(line)\n".utf8))
    }

    /// One line per node: name, MAC, console log.
    static func table(_ state: VirtualCluster.State) -> String {
        let rows = [["NODE", "MAC", "CONSOLE LOG"]] + state.nodes.map { [$0.name, $0.mac, $0.consoleLog] }
        let widths = (0..<2).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row[0].padding(toLength: widths[0] + 2, withPad: " ", startingAt: 0)
                + row[1].padding(toLength: widths[1] + 2, withPad: " ", startingAt: 0) + row[2]
        }.joined(separator: "\n") + "\n"
    }
}
