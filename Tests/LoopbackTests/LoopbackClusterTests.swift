import ClusterControl
import Foundation
import LoopbackHarness
import TestSupport
import Testing

/// Real clusterd processes on 127.0.0.1 (no VMs): the membership protocol end to end over real
/// sockets, with encryption, the control socket and the `cluster` command.
@Suite(.serialized) struct LoopbackClusterTests {
    static func directory(_ name: String) -> String {
        NSTemporaryDirectory() + "/livebuild-loopback-\(name)-\(getpid())"
    }

    @Test func twentyAgentsConvergeAndDetectThreeKilled() async throws {
        let count = 20
        let cluster = try LoopbackCluster(clusterd: try Products.path("clusterd"), count: count, directory: Self.directory("twenty"))
        defer { cluster.stopAll() }
        for index in 0..<count { try cluster.start(index) }

        let converged = ContinuousClock.now
        try await eventually("every agent lists all \(count) alive", cluster: cluster, deadline: .seconds(30)) {
            (0..<count).allSatisfy { observer in
                guard let nodes = cluster.nodes(observer) else { return false }
                return nodes.count == count && nodes.allSatisfy { $0.state == .alive }
            }
        }
        print("loopback: \(count) agents converged \(ContinuousClock.now - converged) after start")

        let killed = [3, 11, 17]
        for index in killed { cluster.kill(index) }
        let survivors = (0..<count).filter { !killed.contains($0) }
        let detection = ContinuousClock.now
        try await eventually("every surviving agent lists agents \(killed.map(cluster.hostname)) dead", cluster: cluster, deadline: .seconds(30)) {
            survivors.allSatisfy { observer in
                killed.allSatisfy { cluster.state(of: $0, seenBy: observer) == .dead }
            }
        }
        print("loopback: 3 killed agents declared dead everywhere \(ContinuousClock.now - detection) after the kill")
        // Nobody else was caught in the crossfire: every survivor sees every other survivor
        // alive (a false suspicion on a loaded machine is refuted, so this holds eventually).
        let survivorIDs = Set(survivors.map(cluster.nodeID))
        try await eventually("every survivor lists the other survivors alive", cluster: cluster, deadline: .seconds(15)) {
            survivors.allSatisfy { observer in
                (cluster.nodes(observer) ?? []).filter { survivorIDs.contains($0.id) && $0.state == .alive }.count == survivors.count
            }
        }
    }

    /// An agent whose TCP port is taken says so and exits: it must not die of NIO's trap on the
    /// UDP channel it had already bound (seen when a test's port was taken between check and bind).
    @Test func aTakenPortIsAnErrorNotACrash() async throws {
        let cluster = try LoopbackCluster(clusterd: try Products.path("clusterd"), count: 1, directory: Self.directory("taken-port"))
        defer { cluster.stopAll() }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = cluster.port(0).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(bound == 0 && listen(listener, 1) == 0)
        try cluster.start(0)
        let deadline = ContinuousClock.now + .seconds(30)
        while cluster.isRunning(0), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let log = cluster.logTail(0, lines: 40)
        #expect(!cluster.isRunning(0), "the agent exits")
        #expect(!log.contains("Fatal error") && log.lowercased().contains("address already in use"), "\(log)")
    }

    @Test func restartedAgentRejoins() async throws {
        let cluster = try LoopbackCluster(clusterd: try Products.path("clusterd"), count: 4, directory: Self.directory("rejoin"))
        defer { cluster.stopAll() }
        for index in 0..<4 { try cluster.start(index) }
        try await eventually("4 agents converge", cluster: cluster, deadline: .seconds(20)) {
            (0..<4).allSatisfy { cluster.nodes($0)?.filter { $0.state == .alive }.count == 4 }
        }
        cluster.kill(2)
        try await eventually("agent003 is dead everywhere", cluster: cluster, deadline: .seconds(20)) {
            [0, 1, 3].allSatisfy { cluster.state(of: 2, seenBy: $0) == .dead }
        }
        try cluster.start(2)
        try await eventually("the restarted agent003 is alive again everywhere", cluster: cluster, deadline: .seconds(20)) {
            [0, 1, 3].allSatisfy { cluster.state(of: 2, seenBy: $0) == .alive }
                && cluster.nodes(2)?.filter { $0.state == .alive }.count == 4
        }
    }

    @Test func foreignKeyIsRejectedAndCounted() async throws {
        let ours = try LoopbackCluster(clusterd: try Products.path("clusterd"), count: 2, directory: Self.directory("ours"))
        defer { ours.stopAll() }
        // Same ports and ids as `ours` but another key: it joins through ours' seeds.
        let foreign = try LoopbackCluster(clusterd: try Products.path("clusterd"), count: 3, directory: Self.directory("foreign"),
                                          basePort: ours.basePort)
        defer { foreign.stopAll() }
        for index in 0..<2 { try ours.start(index) }
        try foreign.start(2)
        try await eventually("our agents see each other and count the intruder's rejected datagrams", cluster: ours, deadline: .seconds(20)) {
            (0..<2).allSatisfy { index in
                guard let status = ours.status(index), let nodes = ours.nodes(index) else { return false }
                return nodes.count == 2 && (status.counters.rejected["authenticationFailed"] ?? 0) > 0
            }
        }
        for index in 0..<2 {
            #expect(ours.nodes(index)?.contains { $0.id == foreign.nodeID(2) } == false)
        }
    }

    @Test func clusterCommandPrintsTheTableAndJSON() async throws {
        let cluster = try LoopbackCluster(clusterd: try Products.path("clusterd"), count: 2, directory: Self.directory("cli"))
        defer { cluster.stopAll() }
        for index in 0..<2 { try cluster.start(index) }
        try await eventually("2 agents converge", cluster: cluster, deadline: .seconds(20)) {
            cluster.nodes(0)?.filter { $0.state == .alive }.count == 2
        }
        let cli = try Products.path("cluster")
        let table = try Tool.run([cli, "nodes", "--socket", cluster.socket(0)]).text
        #expect(table.contains("NODE") && table.contains("agent001 *") && table.contains("agent002") && table.contains("alive"))
        let json = try Tool.run([cli, "nodes", "--json", "--socket", cluster.socket(0)]).stdout
        let nodes = try JSONDecoder().decode([Control.Node].self, from: json)
        #expect(nodes.map(\.hostname).sorted() == ["agent001", "agent002"])
        let status = try Tool.run([cli, "status", "--socket", cluster.socket(1)]).text
        #expect(status.contains("hostname") && status.contains("command line") && status.contains("authenticationFailed") == false)
        let period = status.split(separator: "\n").first { $0.hasPrefix("protocol-period") }?.split(separator: " ").map(String.init)
        #expect(period == ["protocol-period", "200ms", "default"])
    }

    @Test func clusterCommandExplainsAMissingAgent() throws {
        let result = try Tool.run([try Products.path("cluster"), "nodes", "--socket", "/nonexistent/control.sock"], allowFailure: true)
        #expect(result.status == 1)
        #expect(result.stderr.contains("clusterd is not running"))
    }

    func eventually(_ what: String, cluster: LoopbackCluster, deadline: Duration, _ condition: () -> Bool) async throws {
        let end = ContinuousClock.now + deadline
        while !condition() {
            if ContinuousClock.now > end {
                Issue.record("timed out after \(deadline) waiting until \(what); agent001's log:\n\(cluster.logTail(0))")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
