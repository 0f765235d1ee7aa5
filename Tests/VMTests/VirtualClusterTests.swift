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

    /// One boot serves every check (TCG boots are the slow part): three nodes of the default
    /// profile and a fourth built with another cluster key, on one private network.
    @Test func clusterOfThreeWithAnIntruderAndDownAfterACrash() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let intruder = try await Fixtures.shared.intruderImage()
        try await VirtualCluster.down(runDirectory: Self.runDirectory)  // a previous run's leftovers
        let linksBefore = try Self.hostLinks()

        let started = ContinuousClock.now
        let specs = [image.iso, image.iso, image.iso, intruder.iso].map(VirtualCluster.NodeSpec.init(image:))
        let cluster = try await VirtualCluster.up(
            .init(runDirectory: Self.runDirectory, nodes: specs), timeout: Self.bootDeadline)
        print("virtual cluster: 4 nodes answer the guest agent after \(ContinuousClock.now - started) (\(Qemu.Accelerator.probe().rawValue))")
        defer { Self.keepAndScanConsoleLogs(cluster.nodes) }

        do {
            try await Self.exerciseExecAndNetwork(cluster, linksBefore: linksBefore)
            try await Self.exerciseMembership(cluster)
            try await Self.exerciseDownAfterACrash(cluster, linksBefore: linksBefore)
        } catch {
            let journals = await Self.agentJournals(cluster)
            print("virtual cluster test failed: \(error)\n\(VirtualCluster.consoleTails(cluster.nodes, lines: 40))\n\(journals)")
            _ = try? await VirtualCluster.down(runDirectory: Self.runDirectory)
            throw error
        }
    }

    /// The node id and host name clusterd gives node N: from the MAC `livebuild cluster up`
    /// assigns it (52:54:00:4c:42:NN).
    static func nodeID(_ index: Int) -> String { "00005254004c42" + (index < 16 ? "0" : "") + String(index, radix: 16) }
    static func hostname(_ index: Int) -> String { "node-4c42" + (index < 16 ? "0" : "") + String(index, radix: 16) }

    static func exerciseExecAndNetwork(_ cluster: VirtualCluster.Controller, linksBefore: [String]) async throws {
        // exec: output and status of a command on each node; the host name is clusterd's.
        for (node, index) in [("node1", 1), ("2", 2)] {
            let result = try await cluster.exec(node, command: "hostname")
            #expect(result.exitCode == 0)
            #expect(text(result.standardOutput) == hostname(index) + "\n", "hostname on \(node)")
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

    }

    static func exerciseMembership(_ cluster: VirtualCluster.Controller) async throws {
        let probe = VirtualCluster.MembershipProbe(cluster: cluster)
        let members = ["node1", "node2", "node3"]
        let intruderID = nodeID(4)

        // Every node lists all three alive, and never the node with the other key.
        var joins: [(started: Date, seconds: Double)] = []
        for index in 1...3 {
            let views = try await probe.waitUntil(members, list: nodeID(index), as: "alive", never: [intruderID], deadline: .seconds(180))
            // The instant the agent began listening (it waits for DHCP before that).
            let listening = try await probe.status("node\(index)").agentStartedAt
            let seenEverywhere = members.filter { $0 != "node\(index)" }.compactMap { views[$0]?.stateChanged(nodeID(index)) }.max()
            if let seenEverywhere { joins.append((listening, seenEverywhere.timeIntervalSince(listening))) }
        }
        // Only the node that came up last joined a cluster already running; the others were
        // listed when their peers came up.
        if let last = joins.max(by: { $0.started < $1.started }) {
            print("virtual cluster: the last node to come up was listed alive by both peers \(seconds(last.seconds)) s after its agent began listening")
        }
        for node in members {
            let view = try await probe.view(node)
            #expect(view.nodes.count == 3 && view.nodes.allSatisfy { $0.state == "alive" }, "\(node): \(view.nodes.map { "\($0.hostname)=\($0.state)" })")
            #expect(view.nodes.allSatisfy { $0.cpus >= 1 && $0.freeMemoryKiB > 0 && !$0.agentVersion.isEmpty && $0.uptimeSeconds != nil })
        }

        // The control socket: root and the cluster group only.
        let socket = try await cluster.exec("node1", command: "stat -c '%a %U %G' /run/clusterd/control.sock /run/clusterd")
        #expect(text(socket.standardOutput) == "660 root cluster\n750 root cluster\n")
        let nobody = try await cluster.exec("node1", command: "setpriv --reuid=65534 --regid=65534 --clear-groups cluster nodes")
        #expect(nobody.exitCode == 1 && text(nobody.standardError).contains("permission denied"), "\(text(nobody.standardError))")

        // The intruder's datagrams are dropped and counted; it sees nobody.
        for node in members {
            let status = try await probe.status(node).status
            #expect((status.counters.rejected["authenticationFailed"] ?? 0) > 0, "\(node) counted no rejected datagram: \(status.counters)")
            #expect(status.settings.contains { $0.name == "hostname" && $0.source == "default" })
        }
        let intruderView = try await probe.view("node4")
        #expect(intruderView.nodes.map(\.id) == [intruderID], "the intruder knows only itself: \(intruderView.nodes.map(\.hostname))")

        // A node's QEMU is killed: the other two declare it dead.
        try await cluster.kill("node3")
        let killedAt = Date()
        let views = try await probe.waitUntil(["node1", "node2"], list: nodeID(3), as: "dead", never: [intruderID], deadline: .seconds(60))
        let detected = views.values.compactMap { $0.stateChanged(nodeID(3)) }.max() ?? Date()
        print("virtual cluster: node3 killed → dead on node1 and node2 after \(seconds(detected.timeIntervalSince(killedAt))) s")
        for node in ["node1", "node2"] {
            let view = try await probe.view(node)
            #expect(view.nodes.filter { $0.state == "alive" }.count == 2, "\(node) still sees the two survivors alive")
        }
    }

    static func exerciseDownAfterACrash(_ cluster: VirtualCluster.Controller, linksBefore: [String]) async throws {
        // A crashed run: every QEMU killed, the state file gone; `down` still cleans up.
        for node in cluster.nodes { try await cluster.kill(node.name) }
        try FileManager.default.removeItem(atPath: cluster.state.runDirectory + "/cluster.json")
        let report = try await VirtualCluster.down(runDirectory: runDirectory)
        #expect(report.removedNamespace && report.stoppedDnsmasq && report.stoppedVMs == 0, "\(report)")
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/" + cluster.state.namespace))
        #expect(livePrograms(mentioning: runDirectory).isEmpty, "no QEMU or dnsmasq of the cluster is left")
        #expect(try hostLinks() == linksBefore, "host interfaces are as before")
        #expect(try await VirtualCluster.down(runDirectory: runDirectory).nothingWasRunning, "down is idempotent")
    }

    /// Each running node's clusterd journal, for failure messages.
    static func agentJournals(_ cluster: VirtualCluster.Controller) async -> String {
        var text = ""
        for node in cluster.nodes where cluster.isRunning(node) {
            let result = try? await cluster.exec(node.name, command: "journalctl -b --no-pager -u clusterd -u clusterd-config | tail -30", timeout: .seconds(30))
            text += "--- \(node.name) journal:\n" + (result.map { Self.text($0.standardOutput) } ?? "(no answer)") + "\n"
        }
        return text
    }

    static func seconds(_ value: Double) -> String {
        String(format: "%.2f", value)
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
    static func keepAndScanConsoleLogs(_ nodes: [VirtualCluster.Node], prefix: String = "cluster") {
        try? FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        for node in nodes {
            let kept = logDirectory + "/\(prefix)-\(node.name).log"
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
