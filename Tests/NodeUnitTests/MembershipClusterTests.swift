import ClusterWire
@testable import Membership
import Testing

/// Whole-cluster behaviour on the simulated network; times are simulated and printed so the
/// figures in Docs/membership.md can be checked.
@Suite struct MembershipClusterTests {
    static let joinTarget: Duration = .seconds(2)
    static let detectionTarget: Duration = .seconds(3)

    @Test(arguments: [5, 20])
    func clusterJoinsAndConverges(size: Int) throws {
        let sim = MembershipSimulator()
        let took = try #require(sim.startCluster(size))
        print("[sim] \(size) nodes started together: full view everywhere after \(took)")
        #expect(took <= Self.joinTarget)
        // Every node also learned every other node's load.
        for state in sim.nodes.values {
            for member in state.members.values {
                let index = Int(member.id.rawValue - 1000)
                #expect(member.load.cpus == UInt16(index + 1))
            }
        }
    }

    @Test(arguments: [5, 20])
    func joinIntoRunningClusterIsSeenEverywhere(size: Int) throws {
        let sim = MembershipSimulator()
        _ = try #require(sim.startCluster(size))
        sim.run(for: .seconds(3))
        sim.start(size, seed: 1)
        let took = try #require(sim.run(upTo: .seconds(10)) { $0.converged() })
        print("[sim] join into \(size) nodes: seen everywhere after \(took)")
        #expect(took <= Self.joinTarget)
    }

    /// A node that dies just after joining a large cluster is probed at once: every member puts
    /// a newcomer at a random place in its current probe round. Without that it waited for
    /// members' rounds (100 periods each here) to end, and its death took over 3 s to notice.
    @Test func newcomerThatDiesAtOnceIsStillDetectedInTime() throws {
        let sim = MembershipSimulator()
        let size = 100
        _ = try #require(sim.startCluster(size))
        sim.run(for: .seconds(2))
        sim.start(size, seed: 1)
        _ = try #require(sim.run(upTo: .seconds(10)) { $0.everyoneSees(size, as: .alive) })
        sim.stop(size)
        let took = try #require(sim.run(upTo: .seconds(10)) { $0.everyoneSees(size, as: .dead) })
        print("[sim] a newcomer to \(size) nodes dies once everyone lists it: dead everywhere after \(took)")
        #expect(took <= Self.detectionTarget)
    }

    @Test(arguments: [(5, 2), (5, 0), (20, 10), (20, 0), (20, 19), (20, 7)])
    func stoppedNodeIsSuspectedThenDeclaredDead(size: Int, victimIndex: Int) throws {
        let sim = MembershipSimulator()
        _ = try #require(sim.startCluster(size))
        sim.run(for: .seconds(3))
        let victim = MembershipSimulator.id(victimIndex)
        sim.stop(victimIndex)
        let stoppedAt = sim.now
        let took = try #require(sim.run(upTo: .seconds(10)) { $0.everyoneSees(victimIndex, as: .dead) })
        let changes = sim.changes.filter { $0.member.id == victim && $0.at >= stoppedAt }
        let firstSuspect = try #require(changes.first { $0.member.status == .suspect }).at - stoppedAt
        print("[sim] \(size) nodes, node \(victimIndex) stops: first suspicion after \(firstSuspect), dead everywhere after \(took)")
        #expect(took <= Self.detectionTarget)
        for observer in sim.nodes.keys {
            let seen = changes.filter { $0.observer == observer }.map(\.member.status)
            #expect(seen.first == .suspect, "\(observer) saw \(seen)")
            #expect(seen.last == .dead, "\(observer) saw \(seen)")
        }
        #expect(sim.converged())
    }

    @Test func suspectedNodeRefutes() throws {
        let sim = MembershipSimulator()
        _ = try #require(sim.startCluster(5))
        sim.run(for: .seconds(2))
        let target = MembershipSimulator.id(2)
        let current = try #require(sim.nodes[MembershipSimulator.id(0)]?.members[target])
        var rumour = current.update
        rumour.status = .suspect
        let rumouredAt = sim.now
        sim.inject(.received(.gossip(updates: [rumour]), from: MembershipSimulator.id(1),
                             address: MembershipSimulator.address(1)), into: 0)
        let took = try #require(sim.run(upTo: .seconds(3)) {
            $0.everyoneSees(2, as: .alive) { $0.incarnation > current.incarnation }
        })
        print("[sim] refutation of a false suspicion seen everywhere after \(took)")
        sim.run(for: .seconds(3))
        let afterwards = sim.changes.filter { $0.member.id == target && $0.at >= rumouredAt }
        #expect(!afterwards.contains { $0.member.status == .dead })
        #expect(sim.nodes[target]?.incarnation == current.incarnation + 1)
        #expect(sim.converged())
    }

    @Test func deadNodeRejoinsWithHigherIncarnation() throws {
        let sim = MembershipSimulator()
        _ = try #require(sim.startCluster(5))
        sim.run(for: .seconds(2))
        sim.stop(3)
        _ = try #require(sim.run(upTo: .seconds(5)) { $0.everyoneSees(3, as: .dead) })
        let deadIncarnation = try #require(sim.nodes[MembershipSimulator.id(0)]?.members[MembershipSimulator.id(3)]).incarnation
        sim.run(for: .seconds(1))
        sim.start(3, seed: 0)  // a restart: fresh state, incarnation 0
        let took = try #require(sim.run(upTo: .seconds(5)) {
            $0.converged() && $0.everyoneSees(3, as: .alive) { $0.incarnation > deadIncarnation }
        })
        print("[sim] dead node restarted: alive again everywhere after \(took)")
        #expect(took <= Self.joinTarget)
    }

    @Test func partitionDeclaresTheOtherSideDeadAndHealingReunites() throws {
        let sim = MembershipSimulator()
        _ = try #require(sim.startCluster(10))
        sim.run(for: .seconds(2))
        for index in 5..<10 { sim.group[MembershipSimulator.id(index)] = 1 }
        let split = try #require(sim.run(upTo: .seconds(10)) { sim in
            (0..<5).allSatisfy { a in (5..<10).allSatisfy { b in
                sim.nodes[MembershipSimulator.id(a)]?.members[MembershipSimulator.id(b)]?.status == .dead
                    && sim.nodes[MembershipSimulator.id(b)]?.members[MembershipSimulator.id(a)]?.status == .dead
            } }
        })
        sim.group = [:]
        let healed = try #require(sim.run(upTo: .seconds(10)) { $0.converged() })
        print("[sim] 5|5 partition: other side dead after \(split); full view after healing in \(healed)")
        #expect(split <= Self.detectionTarget)
        #expect(healed <= .seconds(4))
    }

    @Test func lossyNetworkCausesNoFalseDeaths() throws {
        let sim = MembershipSimulator()
        _ = try #require(sim.startCluster(20))
        let start = sim.now
        sim.lossRate = 0.10
        sim.run(for: .seconds(20))
        let deaths = sim.changes.filter { $0.at >= start && $0.member.status == .dead }
        let suspicions = sim.changes.filter { $0.at >= start && $0.member.status == .suspect }
        print("[sim] 20 nodes, \(Int(sim.lossRate * 100))% loss, 20 s: \(suspicions.count) suspicions, \(deaths.count) deaths, \(sim.datagrams) datagrams")
        #expect(deaths.isEmpty)
        #expect(!suspicions.isEmpty, "the loss should exercise suspicion and refutation")
        sim.lossRate = 0
        #expect(sim.run(upTo: .seconds(5)) { $0.converged() } != nil)
    }

    @Test func loadChangeReachesEveryone() throws {
        let sim = MembershipSimulator()
        _ = try #require(sim.startCluster(20))
        sim.run(for: .seconds(3))
        let load = Wire.NodeLoad(cpus: 64, cpuMHz: 3000, loadMilli: 12_500, freeMemoryKiB: 1 << 30, runningJobs: 9, agentVersion: "test")
        sim.inject(.localLoadChanged(load), into: 7)
        let took = try #require(sim.run(upTo: .seconds(5)) { $0.everyoneSees(7, as: .alive) { $0.load == load } })
        print("[sim] load change on 1 of 20 nodes seen everywhere after \(took)")
        #expect(took <= Self.joinTarget)
    }

    @Test func simulationIsDeterministic() throws {
        func run() -> [String] {
            let sim = MembershipSimulator()
            _ = sim.startCluster(8)
            sim.stop(4)
            sim.run(for: .seconds(3))
            return sim.changes.map { "\($0.at) \($0.observer) \($0.member.id) \($0.member.status) \($0.member.incarnation)" }
        }
        #expect(run() == run())
    }
}
