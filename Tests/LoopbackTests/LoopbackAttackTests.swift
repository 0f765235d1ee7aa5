import ClusterControl
@testable import ClusterWire
import Foundation
import LoopbackHarness
import TestSupport
import Testing

/// A cluster-key holder attacking real agents on 127.0.0.1 with the datagrams that used to kill
/// them or lock them out (issue "trust model", points 5 and 7): no agent may die, and every
/// member must stay alive everywhere.
@Suite(.serialized) struct LoopbackAttackTests {
    static let count = 4

    static func directory(_ name: String) -> String {
        NSTemporaryDirectory() + "/livebuild-loopback-\(name)-\(getpid())"
    }

    static func id(_ index: Int) -> Wire.NodeID { Wire.NodeID(UInt64(index + 1)) }

    static func update(_ index: Int, port: UInt16, incarnation: UInt64, status: Wire.MemberStatus) -> Wire.MemberUpdate {
        Wire.MemberUpdate(node: id(index), incarnation: incarnation, status: status,
                          address: Wire.Address(host: "127.0.0.1", port: port), load: Wire.NodeLoad())
    }

    @Test func forgedIncarnationsAndSequencesKillNoAgentAndNoMember() async throws {
        let cluster = try LoopbackCluster(clusterd: try Products.path("clusterd"), count: Self.count, directory: Self.directory("attack"))
        defer { cluster.stopAll() }
        for index in 0..<Self.count { try cluster.start(index) }
        try await eventually("\(Self.count) agents converge", cluster: cluster, deadline: .seconds(20)) {
            (0..<Self.count).allSatisfy { cluster.nodes($0)?.filter { $0.state == .alive }.count == Self.count }
        }

        let keys = try Wire.Keys(clusterKey: try cluster.clusterKey())
        let socket = try LoopbackDatagramSocket()
        // The attacker speaks as agent 4 (a member, so its updates are read), in a session of its own.
        var forger = Wire.Sealer(keys: keys, sender: Self.id(Self.count - 1), session: 0xBAD)
        var nonce: UInt8 = 0
        func nextNonce() -> [UInt8] {
            nonce &+= 1
            return [0xF0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, nonce]
        }
        for round in 0..<3 {
            for target in 0..<Self.count - 1 {
                // "Every member alive / suspect / dead at the end of the number space", to every
                // agent, about itself and about the others.
                for (incarnation, status) in [(UInt64.max, Wire.MemberStatus.alive), (.max - 1, .suspect), (.max, .dead),
                                              (1 << 56, .alive), ((1 << 56) - 1, .suspect)] {
                    let updates = (0..<Self.count).map {
                        Self.update($0, port: cluster.port($0), incarnation: incarnation, status: status)
                    }
                    try socket.send(try forger.seal(.gossip(updates: updates), to: Self.id(target), nonce: nextNonce()),
                                    toPort: cluster.port(target))
                }
                // Sequence numbers near the end, in sessions claimed for every member.
                for sender in 0..<Self.count where sender != target {
                    var impostor = Wire.Sealer(keys: keys, sender: Self.id(sender), session: UInt64(round))
                    let forged = try impostor.seal(
                        plaintext: Wire.Message.ping(probe: 1, updates: []).encoded(), to: Self.id(target),
                        sequence: .max - 1, nonce: nextNonce())
                    try socket.send(forged, toPort: cluster.port(target))
                }
            }
        }
        // Reflection: a ping from "agent 4" sent from our socket is answered at agent 4's
        // known address, never here.
        try socket.send(try forger.seal(.ping(probe: 7, updates: []), to: Self.id(0), nonce: nextNonce()), toPort: cluster.port(0))
        #expect(socket.receive(waitingMilliseconds: 1000).isEmpty, "an agent answered the UDP source")

        try await eventually("every attacked agent counts the forgeries", cluster: cluster, deadline: .seconds(10)) {
            (0..<Self.count - 1).allSatisfy { index in
                guard let counters = cluster.status(index)?.counters else { return false }
                return (counters.membershipDropped["incarnationOutOfBounds"] ?? 0) > 0 && (counters.rejected["tooFarAhead"] ?? 0) > 0
            }
        }
        // The attack used to leave every member dead everywhere within 8 s: watch for 10.
        let end = ContinuousClock.now + .seconds(10)
        var polls = 0
        while ContinuousClock.now < end && polls < 200 {
            polls += 1
            for index in 0..<Self.count {
                #expect(cluster.isRunning(index), "agent \(index + 1) died:\n\(cluster.logTail(index))")
            }
            for observer in 0..<Self.count {
                let nodes = cluster.nodes(observer) ?? []
                let alive = nodes.filter { $0.state == .alive }.count
                if alive != Self.count {
                    Issue.record("agent \(observer + 1) lists \(alive) of \(Self.count) alive: \(nodes.map { "\($0.hostname) \($0.state) \($0.incarnation)" })")
                    return
                }
                #expect(nodes.allSatisfy { $0.incarnation < (1 << 56) }, "an incarnation beyond the ceiling was adopted")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
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
