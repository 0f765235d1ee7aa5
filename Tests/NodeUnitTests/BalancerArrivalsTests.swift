import Balancer
import Testing

/// The ledger of moves gossip has not confirmed yet: what the policy sees of a target just sent
/// a job, and how it spreads a burst when gossip lags.
@Suite struct BalancerArrivalsTests {
    typealias Fixture = BalancerTests

    /// A head with four jobs and two idle one-CPU peers whose gossip never changes during the
    /// burst (the worst case of lag), deciding once per second until nothing moves.
    static func spread(usingLedger: Bool) -> [UInt64: Int] {
        var ledger = Balancer.Arrivals()
        var local = Fixture.jobs(4)
        var placed: [UInt64: Int] = [1: 4, 2: 0, 3: 0]
        for second in 0..<20 {
            let now = Duration.seconds(second)
            let stale = [Fixture.node(2), Fixture.node(3)]
            let peers = usingLedger ? ledger.adjust(stale, at: now) : stale
            guard let decision = Balancer.decide(
                local: Fixture.node(1, load: Double(local.count)), jobs: local, peers: peers,
                migrationInProgress: false, settings: .init()
            ) else { break }
            let moved = local.removeFirst()
            if usingLedger {
                let gossiped = stale.first { $0.id == decision.target }!.runningJobs
                ledger.record(target: decision.target, gossipedJobs: gossiped, memoryKiB: moved.memoryKiB, at: now)
            }
            placed[1, default: 0] -= 1
            placed[decision.target, default: 0] += 1
        }
        return placed
    }

    @Test func staleGossipOvershootsWithoutTheLedger() {
        // The failure the ledger exists for: every move goes to the peer that still looks idle.
        #expect(Self.spread(usingLedger: false).values.max() == 3)
    }

    @Test func aBurstSpreadsOverIdlePeersDespiteStaleGossip() {
        #expect(Self.spread(usingLedger: true) == [1: 2, 2: 1, 3: 1])
    }

    /// Short jobs placed on a peer end before its gossip ever shows them: once the placing node
    /// sees a publication made after the starts, it confirms, and the peer's own count (0) stands
    /// at once instead of the expectation's 3 for the whole hold.
    @Test func aConfirmedTargetCountsAsItsGossipSays() {
        var ledger = Balancer.Arrivals()
        for _ in 0..<3 { ledger.record(target: 2, gossipedJobs: 0, memoryKiB: 0, at: .zero) }
        #expect(ledger.adjust([Fixture.node(2)], at: .seconds(1)).first?.runningJobs == 3)
        ledger.confirm(target: 2)
        #expect(ledger.adjust([Fixture.node(2)], at: .seconds(1)).first?.runningJobs == 0)
        #expect(ledger.targets.isEmpty)
    }

    @Test func anExpectationRaisesCountAndLowersMemoryUntilGossipConfirms() {
        var ledger = Balancer.Arrivals(hold: .seconds(15))
        ledger.record(target: 2, gossipedJobs: 0, memoryKiB: 1 << 20, at: .seconds(0))
        ledger.record(target: 2, gossipedJobs: 0, memoryKiB: 1 << 20, at: .seconds(1))
        let seen = ledger.adjust([Fixture.node(2, freeGiB: 7), Fixture.node(3)], at: .seconds(2))
        #expect(seen[0].runningJobs == 2)
        #expect(seen[0].memoryFreeKiB == 5 * Fixture.gib)
        #expect(seen[1] == Fixture.node(3))
        // Gossip shows one of the two: still raised to two.
        #expect(ledger.adjust([Fixture.node(2, jobs: 1)], at: .seconds(3))[0].runningJobs == 2)
        // Gossip shows both: the expectation is dropped and gossip is taken as it is.
        #expect(ledger.adjust([Fixture.node(2, jobs: 2)], at: .seconds(4))[0].runningJobs == 2)
        #expect(ledger.targets.isEmpty)
        #expect(ledger.adjust([Fixture.node(2, jobs: 0)], at: .seconds(5))[0].runningJobs == 0)
    }

    @Test func aConfirmedExpectationStartsAfreshOnTheNextMove() {
        var ledger = Balancer.Arrivals()
        ledger.record(target: 2, gossipedJobs: 0, memoryKiB: 0, at: .seconds(0))
        // The target's gossip already counts the first move when the second is recorded.
        ledger.record(target: 2, gossipedJobs: 1, memoryKiB: 0, at: .seconds(1))
        #expect(ledger.adjust([Fixture.node(2, jobs: 1)], at: .seconds(2))[0].runningJobs == 2)
    }

    @Test func anUnconfirmedExpectationLapses() {
        var ledger = Balancer.Arrivals(hold: .seconds(15))
        ledger.record(target: 2, gossipedJobs: 0, memoryKiB: 0, at: .seconds(0))
        #expect(ledger.adjust([Fixture.node(2)], at: .seconds(14))[0].runningJobs == 1)
        #expect(ledger.adjust([Fixture.node(2)], at: .seconds(15))[0].runningJobs == 0)
        #expect(ledger.targets.isEmpty)
    }

    @Test func aFailedMoveIsWithdrawn() {
        var ledger = Balancer.Arrivals()
        ledger.record(target: 2, gossipedJobs: 0, memoryKiB: 0, at: .seconds(0))
        ledger.record(target: 2, gossipedJobs: 0, memoryKiB: 0, at: .seconds(1))
        ledger.withdraw(target: 2, memoryKiB: 0)
        #expect(ledger.adjust([Fixture.node(2)], at: .seconds(2))[0].runningJobs == 1)
    }
}
