import Foundation
import Qemu
import Testing
import TestSupport
import VirtualCluster

/// `VirtualCluster` end to end: two nodes of the default profile's ISO on a private network in a
/// namespace, commands through the guest agent, and `down` after a crash. Needs root (the CI
/// machine is root); under TCG the boot takes about a minute.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root: network namespaces and taps"))
struct VirtualClusterTests {
    /// Short, so the sockets' paths stay under the Unix limit.
    static let runDirectory = Repository.root + "/.build/vc-test"
    static let bootDeadline: Duration = .seconds(420)

    static var logDirectory: String {
        ProcessInfo.processInfo.environment["LIVEBUILD_VM_LOG_DIR"] ?? Repository.root + "/.build/vm-logs"
    }

    @Test func twoNodesOnAPrivateNetworkAndDownAfterACrash() async throws {
        let image = try await Fixtures.shared.image("cluster")
        try await VirtualCluster.down(runDirectory: Self.runDirectory)  // a previous run's leftovers
        let linksBefore = try Self.hostLinks()

        let started = ContinuousClock.now
        let cluster = try await VirtualCluster.up(
            .init(runDirectory: Self.runDirectory, image: image.iso, count: 2), timeout: Self.bootDeadline)
        print("virtual cluster: 2 nodes answer the guest agent after \(ContinuousClock.now - started) (\(Qemu.Accelerator.probe().rawValue))")
        defer { Self.keepAndScanConsoleLogs(cluster.nodes) }

        do {
            try await Self.exercise(cluster, linksBefore: linksBefore)
        } catch {
            print("virtual cluster test failed: \(error)\n\(VirtualCluster.consoleTails(cluster.nodes, lines: 40))")
            _ = try? await VirtualCluster.down(runDirectory: Self.runDirectory)
            throw error
        }
    }

    static func exercise(_ cluster: VirtualCluster.Controller, linksBefore: [String]) async throws {
        // exec: output and status of a command on each node.
        for node in ["node1", "2"] {
            let hostname = try await cluster.exec(node, command: "hostname")
            #expect(hostname.exitCode == 0)
            #expect(text(hostname.standardOutput) == "livebuild\n", "hostname on \(node)")
        }
        let streams = try await cluster.exec("node1", command: "echo out; echo err >&2; exit 3")
        #expect(text(streams.standardOutput) == "out\n")
        #expect(text(streams.standardError) == "err\n")
        #expect(streams.exitCode == 3 && streams.signal == nil)
        let serial = try await cluster.exec("node2", path: "/bin/cat", arguments: ["/sys/class/dmi/id/product_serial"])
        #expect(text(serial.standardOutput) == "node2\n", "distinct DMI serials")

        // The private network: each node gets a DHCP address from dnsmasq in the namespace, and
        // node1 reaches node2 over the bridge.
        let address1 = try await dhcpAddress(cluster, "node1")
        let address2 = try await dhcpAddress(cluster, "node2")
        #expect(address1 != address2)
        let ping = try await cluster.exec("node1", command: "ping -c1 -W5 \(address2)")
        #expect(ping.exitCode == 0, "node1 → node2 (\(address2)): \(text(ping.standardOutput))\(text(ping.standardError))")
        #expect(try hostLinks() == linksBefore, "no interface appears on the host while the cluster runs")

        // A crashed run: both QEMUs killed, the state file gone; `down` still cleans up.
        try await cluster.kill("node1")
        try await cluster.kill("node2")
        try FileManager.default.removeItem(atPath: cluster.state.runDirectory + "/cluster.json")
        let report = try await VirtualCluster.down(runDirectory: runDirectory)
        #expect(report.removedNamespace && report.stoppedDnsmasq && report.stoppedVMs == 0, "\(report)")
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/" + cluster.state.namespace))
        #expect(livePrograms(mentioning: runDirectory).isEmpty, "no QEMU or dnsmasq of the cluster is left")
        #expect(try hostLinks() == linksBefore, "host interfaces are as before")
        #expect(try await VirtualCluster.down(runDirectory: runDirectory).nothingWasRunning, "down is idempotent")
    }

    /// The node's IPv4 address on the cluster network, waiting for DHCP with a deadline.
    static func dhcpAddress(_ cluster: VirtualCluster.Controller, _ node: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        var last = ""
        while ContinuousClock.now < deadline {
            let result = try await cluster.exec(node, command: "ip -4 -o addr show scope global")
            last = text(result.standardOutput)
            // "2: enp0s3    inet 10.77.0.57/24 metric 1024 brd ..."
            if let field = last.split(whereSeparator: \.isWhitespace).first(where: { $0.hasPrefix("10.77.0.") }) {
                return String(field.prefix { $0 != "/" })
            }
            try await Task.sleep(for: .seconds(1))
        }
        throw VMTestFailure("timed out after 120 s waiting for \(node) to get a DHCP address in 10.77.0.0/24; last `ip -4 -o addr`: \(last)")
    }

    /// Host interfaces by name and MAC (counters and carrier states may change on their own).
    static func hostLinks() throws -> [String] {
        let output = try Tool.run(["ip", "-o", "link", "show"]).text
        return output.split(separator: "\n").map { line in
            let fields = line.split(separator: " ")
            let name = fields.count > 1 ? String(fields[1]) : String(line)
            let mac = fields.firstIndex { $0.hasPrefix("link/") }.flatMap { fields.index(after: $0) < fields.endIndex ? String(fields[fields.index(after: $0)]) : nil } ?? ""
            return "\(name) \(mac)"
        }.sorted()
    }

    /// Live (not zombie) processes whose command line mentions `directory`.
    static func livePrograms(mentioning directory: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int32($0) != nil && Int32($0) != getpid() }.compactMap { pid in
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")"),
                  stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z" else { return nil }
            let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains { $0.contains(directory + "/") } ? "\(pid): \(arguments.joined(separator: " "))" : nil
        }
    }

    /// Copies each console log to the VM log directory and fails on a kernel panic or oops.
    static func keepAndScanConsoleLogs(_ nodes: [VirtualCluster.Node]) {
        try? FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        for node in nodes {
            let kept = logDirectory + "/cluster-\(node.name).log"
            try? FileManager.default.removeItem(atPath: kept)
            try? FileManager.default.copyItem(atPath: node.consoleLog, toPath: kept)
            let failures = Qemu.ConsoleLog.failures(in: text(FileManager.default.contents(atPath: node.consoleLog).map(Array.init) ?? []))
            #expect(failures.isEmpty, "kernel failure on \(node.name)'s console (\(kept)):\n\(failures.joined(separator: "\n"))")
        }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}

struct VMTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
