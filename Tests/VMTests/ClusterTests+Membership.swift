import Foundation
import Qemu
import Testing
import TestSupport
import VirtualCluster

/// `VirtualCluster` and clusterd's membership on the cluster of ``ClusterTests``: commands
/// through the guest agent, the private network in its namespace, three members that list each
/// other and never the intruder (node4, another cluster key), a killed node declared dead, and
/// `down` after a crash.
extension ClusterTests {
    /// The node id and host name clusterd gives node N: from the MAC `livebuild cluster up`
    /// assigns it (52:54:00:4c:42:NN).
    static func nodeID(_ index: Int) -> String { "00005254004c42" + (index < 16 ? "0" : "") + String(index, radix: 16) }
    static func hostname(_ index: Int) -> String { "node-4c42" + (index < 16 ? "0" : "") + String(index, radix: 16) }

    static func checkExecAndNetwork(_ cluster: VirtualCluster.Controller, linksBefore: [String]) async throws {
        // exec: output and status of a command on each node; the host name is clusterd's.
        for (node, index) in [("node1", 1), ("2", 2), ("node4", 4)] {
            let result = try await cluster.exec(node, command: "hostname")
            #expect(result.exitCode == 0)
            #expect(Guest.text(result.standardOutput) == hostname(index) + "\n", "hostname on \(node)")
        }
        let streams = try await cluster.exec("node1", command: "echo out; echo err >&2; exit 3")
        #expect(Guest.text(streams.standardOutput) == "out\n")
        #expect(Guest.text(streams.standardError) == "err\n")
        #expect(streams.exitCode == 3 && streams.signal == nil)
        let serial = try await cluster.exec("node2", path: "/bin/cat", arguments: ["/sys/class/dmi/id/product_serial"])
        #expect(Guest.text(serial.standardOutput) == "node2\n", "distinct DMI serials")

        // The private network: each node gets a DHCP address from dnsmasq in the namespace, and
        // node1 reaches node2 over the bridge.
        let address1 = try await dhcpAddress(cluster, "node1")
        let address2 = try await dhcpAddress(cluster, "node2")
        #expect(address1 != address2)
        let ping = try await cluster.exec("node1", command: "ping -c1 -W5 \(address2)")
        #expect(ping.exitCode == 0, "node1 → node2 (\(address2)): \(Guest.text(ping.standardOutput))\(Guest.text(ping.standardError))")
        #expect(try hostLinks() == linksBefore, "no interface appears on the host while the cluster runs")
    }

    static func checkMembership(_ cluster: VirtualCluster.Controller) async throws {
        let probe = VirtualCluster.MembershipProbe(cluster: cluster)
        let members = ["node1", "node2", "node3"]
        let intruderID = nodeID(4)

        // Every node lists all three alive, and never the node with the other key.
        var joins: [(started: Date, seconds: Double)] = []
        for index in 1...3 {
            let views = try await probe.waitUntil(members, list: nodeID(index), as: .alive, never: [intruderID], deadline: .seconds(180))
            // The instant the agent began listening (it waits for DHCP before that).
            let listening = try await probe.status("node\(index)").agentStartedAt
            let seenEverywhere = members.filter { $0 != "node\(index)" }.compactMap { views[$0]?.stateChanged(nodeID(index)) }.max()
            if let seenEverywhere { joins.append((listening, seenEverywhere.timeIntervalSince(listening))) }
        }
        // Only the nodes that came up last (the diskless ones, after the head) joined a cluster
        // already running.
        if let last = joins.max(by: { $0.started < $1.started }) {
            print("cluster: the last node to come up was listed alive by both peers \(Guest.seconds(last.seconds)) s after its agent began listening")
        }
        // Four one-vCPU guests share this host's two cores, so a member may be suspected for a
        // moment (and refute it) when its vCPU is not scheduled: each view must show all three
        // alive within a minute, not at one instant.
        for node in members {
            var view = try await probe.view(node)
            try await Guest.waitUntil("\(node) lists the three members alive (last: \(view.nodes.map { "\($0.hostname)=\($0.state)" }))", deadline: .seconds(60)) {
                view = try await probe.view(node)
                return view.nodes.count == 3 && view.nodes.allSatisfy { $0.state == .alive }
            }
            #expect(view.nodes.allSatisfy { $0.cpus >= 1 && $0.freeMemoryKiB > 0 && !$0.agentVersion.isEmpty && $0.uptimeSeconds != nil })
        }

        // The control socket: root and the cluster group only.
        let socket = try await cluster.exec("node1", command: "stat -c '%a %U %G' /run/clusterd/control.sock /run/clusterd")
        #expect(Guest.text(socket.standardOutput) == "660 root cluster\n750 root cluster\n")
        let nobody = try await cluster.exec("node1", command: "setpriv --reuid=65534 --regid=65534 --clear-groups cluster nodes")
        #expect(nobody.exitCode == 1 && Guest.text(nobody.standardError).contains("permission denied"), "\(Guest.text(nobody.standardError))")

        // The intruder's datagrams are dropped and counted; it sees nobody.
        for node in members {
            let status = try await probe.status(node).status
            #expect((status.counters.rejected["authenticationFailed"] ?? 0) > 0, "\(node) counted no rejected datagram: \(status.counters)")
            #expect(status.settings.contains { $0.name == "hostname" && $0.source == "default" })
        }
        let intruderView = try await probe.view("node4")
        #expect(intruderView.nodes.map(\.id) == [intruderID], "the intruder knows only itself: \(intruderView.nodes.map(\.hostname))")
        // Its part is done. The later steps time jobs on one-vCPU guests that share the host's
        // two cores, and a fourth QEMU took CPU from them (a balancing speedup of 1.47 in CI).
        try await cluster.kill("node4")
    }

    /// After node `index`'s QEMU was killed at `killedAt`: the `survivors` declare it dead and
    /// still list each other alive.
    static func checkDeclaredDead(_ cluster: VirtualCluster.Controller, index: Int, killedAt: Date, survivors: [String]) async throws {
        let probe = VirtualCluster.MembershipProbe(cluster: cluster)
        let views = try await probe.waitUntil(survivors, list: nodeID(index), as: .dead, never: [nodeID(4)], deadline: .seconds(60))
        let detected = views.values.compactMap { $0.stateChanged(nodeID(index)) }.max() ?? Date()
        print("cluster: node\(index) killed → dead on \(survivors.joined(separator: " and ")) after \(Guest.seconds(detected.timeIntervalSince(killedAt))) s")
        for node in survivors {
            let view = try await probe.view(node)
            #expect(view.nodes.filter { $0.state == .alive }.count == survivors.count, "\(node) still sees the survivors alive: \(view.nodes.map { "\($0.hostname)=\($0.state)" })")
        }
    }

    static func checkDownAfterACrash(_ cluster: VirtualCluster.Controller, linksBefore: [String]) async throws {
        // A crashed run: every QEMU killed, the state file gone; `down` still cleans up.
        for node in cluster.nodes where cluster.isRunning(node) { try await cluster.kill(node.name) }
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
            last = Guest.text(result.standardOutput)
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
}
