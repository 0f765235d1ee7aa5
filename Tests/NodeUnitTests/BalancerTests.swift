import Balancer
import Testing

/// The balancing policy on tables of cluster states.
@Suite struct BalancerTests {
    static let gib: UInt64 = 1 << 20  // KiB

    static func node(
        _ id: UInt64, cpus: Int = 1, mhz: Int = 2000, load: Double = 0, jobs: Int? = nil,
        freeGiB: Double = 7, accepts: Bool = true
    ) -> Balancer.Node {
        Balancer.Node(
            id: id, cpus: cpus, cpuMHz: mhz, load: load, runningJobs: jobs ?? Int(load),
            memoryTotalKiB: 8 * gib, memoryFreeKiB: UInt64(freeGiB * Double(gib)), acceptsJobs: accepts)
    }

    static func job(
        _ id: String, memoryMiB: UInt64 = 100, ran: Duration = .seconds(60), stay: Bool = false,
        moved: Duration? = nil
    ) -> Balancer.Job {
        Balancer.Job(id: id, demand: 1, memoryKiB: memoryMiB * 1024, runTime: ran, stay: stay, lastMigration: moved)
    }

    static func jobs(_ count: Int) -> [Balancer.Job] {
        (0..<count).map { job("j\($0)") }
    }

    /// One state of the cluster and what the policy must answer.
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var local: Balancer.Node
        var jobs: [Balancer.Job]
        var peers: [Balancer.Node]
        var migrating = false
        var settings = Balancer.Settings()
        /// (job, target, reason) or nil for no move.
        var expected: (String, UInt64, Balancer.Decision.Reason)?

        var testDescription: String { name }
    }

    /// Ties to the lowest id, and peers older than 30 s ignored: settings the tables share.
    static var lowestID: Balancer.Settings {
        var settings = Balancer.Settings()
        settings.tieBreak = .lowestID
        return settings
    }
    static var freshOnly: Balancer.Settings {
        var settings = Balancer.Settings()
        settings.maximumInformationAge = .seconds(30)
        return settings
    }

    static let cases: [Case] = {
        let lowest = lowestID
        var sendOff = Balancer.Settings()
        sendOff.sendsJobs = false
        return [
            Case(name: "idle cluster: nothing moves", local: node(1), jobs: [],
                 peers: [node(2), node(3)], expected: nil),
            Case(name: "one job per node: nothing moves", local: node(1, load: 1), jobs: jobs(1),
                 peers: [node(2, load: 1), node(3, load: 1)], expected: nil),
            Case(name: "loaded node, idle peer: a job moves there",
                 local: node(1, load: 3), jobs: jobs(3), peers: [node(2, load: 3), node(3)],
                 expected: ("j0", 3, .load)),
            Case(name: "the smallest job of equal gain moves (cheapest transfer)",
                 local: node(1, load: 3),
                 jobs: [job("a", memoryMiB: 500), job("b", memoryMiB: 50), job("c", memoryMiB: 200)],
                 peers: [node(2)], expected: ("b", 2, .load)),
            Case(name: "within the stability margin (2 vs 1): no move",
                 local: node(1, load: 2), jobs: jobs(2), peers: [node(2, load: 1)], expected: nil),
            Case(name: "smoothing noise inside the margin (2.2 vs 0.9): no move",
                 local: node(1, load: 2.2, jobs: 2), jobs: jobs(2), peers: [node(2, load: 0.9, jobs: 0)],
                 expected: nil),
            Case(name: "young job: 1 GiB needs 10.7 s at 100 MB/s, ran 5 s",
                 local: node(1, load: 3), jobs: (0..<3).map { job("j\($0)", memoryMiB: 1024, ran: .seconds(5)) },
                 peers: [node(2)], expected: nil),
            Case(name: "young and old: the old one moves",
                 local: node(1, load: 3),
                 jobs: [job("young", memoryMiB: 10, ran: .milliseconds(1)), job("old", memoryMiB: 1024, ran: .seconds(30))],
                 peers: [node(2)], expected: ("old", 2, .load)),
            Case(name: "moved 1 s ago: stays (minimum residency)",
                 local: node(1, load: 3), jobs: (0..<3).map { job("j\($0)", moved: .seconds(1)) },
                 peers: [node(2)], expected: nil),
            Case(name: "stay jobs are never chosen",
                 local: node(1, load: 4), jobs: (0..<4).map { job("j\($0)", stay: true) },
                 peers: [node(2)], expected: nil),
            Case(name: "stay job skipped, the other moves",
                 local: node(1, load: 3), jobs: [job("a", memoryMiB: 10, stay: true), job("b")],
                 peers: [node(2)], expected: ("b", 2, .load)),
            Case(name: "peer that does not accept jobs is never chosen",
                 local: node(1, load: 4), jobs: jobs(4), peers: [node(2, accepts: false), node(3, load: 1)],
                 expected: ("j0", 3, .load)),
            Case(name: "no peer accepts jobs: nothing moves",
                 local: node(1, load: 4), jobs: jobs(4), peers: [node(2, accepts: false)], expected: nil),
            Case(name: "migration in progress: nothing moves",
                 local: node(1, load: 4), jobs: jobs(4), peers: [node(2)], migrating: true, expected: nil),
            Case(name: "send switch off: nothing moves",
                 local: node(1, load: 4), jobs: jobs(4), peers: [node(2)], settings: sendOff, expected: nil),
            Case(name: "low memory: a job leaves though CPU is balanced, to the node with room",
                 local: node(1, load: 1, freeGiB: 0.5), jobs: [job("big", memoryMiB: 2048)],
                 peers: [node(2, load: 1, freeGiB: 1), node(3, load: 1, freeGiB: 4)],
                 expected: ("big", 3, .memory)),
            Case(name: "low memory, no peer has room: nothing moves",
                 local: node(1, load: 1, freeGiB: 0.5), jobs: [job("big", memoryMiB: 2048)],
                 peers: [node(2, freeGiB: 2)], expected: nil),
            Case(name: "low memory evicts even a young job, not a stay job",
                 local: node(1, load: 2, freeGiB: 0.2),
                 jobs: [job("pinned", memoryMiB: 3000, stay: true), job("young", memoryMiB: 1000, ran: .milliseconds(10))],
                 peers: [node(2, load: 2)], expected: ("young", 2, .memory)),
            Case(name: "a 2× faster node attracts the job over an idle 1× node",
                 local: node(1, load: 3), jobs: jobs(3),
                 peers: [node(2, mhz: 4000, load: 1), node(3, load: 1)], expected: ("j0", 2, .load)),
            Case(name: "two CPUs with one job beat one CPU with one job",
                 local: node(1, load: 4), jobs: jobs(4),
                 peers: [node(2, cpus: 2, load: 1), node(3, load: 1)], expected: ("j0", 2, .load)),
            Case(name: "the local node is never a target, even listed among the peers",
                 local: node(1, load: 3), jobs: jobs(3), peers: [node(1), node(2, load: 3)], expected: nil),
            Case(name: "equal cost: lowest id with .lowestID",
                 local: node(9, load: 3), jobs: jobs(3), peers: [node(5), node(2), node(7)], settings: lowest,
                 expected: ("j0", 2, .load)),
            Case(name: "stale information is ignored",
                 local: node(1, load: 3), jobs: jobs(3),
                 peers: [Balancer.Node(id: 2, cpus: 1, cpuMHz: 2000, load: 0, memoryTotalKiB: 8 * gib,
                                       memoryFreeKiB: 7 * gib, informationAge: .seconds(60))],
                 settings: freshOnly, expected: nil),
        ]
    }()

    @Test(arguments: cases)
    func decides(_ c: Case) {
        let decision = Balancer.decide(
            local: c.local, jobs: c.jobs, peers: c.peers, migrationInProgress: c.migrating, settings: c.settings)
        if let (job, target, reason) = c.expected {
            #expect(decision?.job == job)
            #expect(decision?.target == target)
            #expect(decision?.reason == reason)
            // A memory eviction may cost CPU; a load move always gains.
            if reason == .load { #expect((decision?.estimatedGain ?? 0) > 0) }
        } else {
            #expect(decision == nil)
        }
        #expect(decision?.target != c.local.id)
    }

    @Test func spreadTieBreakIsDeterministicAndDiffersBetweenSenders() {
        let peers = (100..<110).map { Self.node(UInt64($0)) }
        var targets: Set<UInt64> = []
        for sender in UInt64(1)...20 {
            let local = Self.node(sender, load: 3)
            let first = Balancer.decide(local: local, jobs: Self.jobs(3), peers: peers, migrationInProgress: false, settings: .init())
            let again = Balancer.decide(local: local, jobs: Self.jobs(3), peers: peers.reversed(), migrationInProgress: false, settings: .init())
            #expect(first != nil)
            #expect(first == again)
            if let first { targets.insert(first.target) }
        }
        #expect(targets.count >= 5)
    }

    @Test(arguments: [(0.0, 1.0), (1.0, 2.0), (2.5, 5.656854249492381), (-1.0, 0.5), (10.0, 1024.0)])
    func powerMatchesKnownValues(_ exponent: Double, _ expected: Double) {
        #expect(abs(Balancer.power(2, exponent) - expected) <= expected * 1e-12)
    }

    @Test func powerOfOtherBases() {
        #expect(abs(Balancer.power(10, 3) - 1000) < 1e-9)
        #expect(abs(Balancer.power(1000, 0.5) - 31.622776601683793) < 1e-10)
        #expect(abs(Balancer.power(1.3, 7.25) - 6.700223723384165) < 1e-11)
    }

    @Test func costGrowsExponentiallyWithUtilisation() {
        let settings = Balancer.Settings()
        let idle = Balancer.cost(of: Self.node(1), settings: settings)
        let one = Balancer.cost(of: Self.node(1, load: 1), settings: settings)
        let two = Balancer.cost(of: Self.node(1, load: 2), settings: settings)
        #expect(one - idle < two - one)
        // The smoothed load never hides jobs the agent runs.
        #expect(Balancer.cpuLoad(of: Self.node(1, load: 0.2, jobs: 3)) == 3)
        #expect(Balancer.capacity(of: Self.node(1, cpus: 4, mhz: 3000), settings: settings) == 6)
    }

    /// A static model: nodes exchange jobs one decision at a time with exact information, time
    /// advancing a second per round. Balancing must settle (no decision left) within a bounded
    /// number of rounds, and no job moves more than twice.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func balancingSettlesWithoutBouncing(seed: UInt64) {
        var random = SplitMix(seed)
        let count = 8
        var speeds: [Int] = []
        var cpus: [Int] = []
        var placed: [[Balancer.Job]] = Array(repeating: [], count: count)
        var moves: [String: Int] = [:]
        var arrived: [String: Int] = [:]
        for _ in 0..<count {
            speeds.append([1000, 2000, 3000][Int(random.next() % 3)])
            cpus.append(1 + Int(random.next() % 4))
        }
        for index in 0..<30 {
            let node = Int(random.next() % 3)  // a burst on three nodes
            placed[node].append(Self.job("j\(index)", memoryMiB: 50 + random.next() % 400, ran: .seconds(100)))
        }
        func view(_ index: Int) -> Balancer.Node {
            let used = placed[index].reduce(0) { $0 + $1.memoryKiB }
            return Balancer.Node(
                id: UInt64(index + 1), cpus: cpus[index], cpuMHz: speeds[index], load: Double(placed[index].count),
                runningJobs: placed[index].count, memoryTotalKiB: 8 * Self.gib, memoryFreeKiB: 8 * Self.gib - used)
        }
        var round = 0
        var settled = false
        while round < 200 {
            round += 1
            var moved = false
            for index in 0..<count {
                let jobs = placed[index].map { job in
                    var job = job
                    job.lastMigration = arrived[job.id].map { .seconds(round - $0) }
                    return job
                }
                let peers = (0..<count).filter { $0 != index }.map(view)
                guard let decision = Balancer.decide(
                    local: view(index), jobs: jobs, peers: peers, migrationInProgress: false, settings: .init()
                ) else { continue }
                let target = Int(decision.target) - 1
                #expect(target != index)
                guard let position = placed[index].firstIndex(where: { $0.id == decision.job }) else { continue }
                placed[target].append(placed[index].remove(at: position))
                moves[decision.job, default: 0] += 1
                arrived[decision.job] = round
                moved = true
            }
            if !moved { settled = true; break }
        }
        #expect(settled)
        #expect(moves.values.allSatisfy { $0 <= 2 }, "moves per job: \(moves)")
        #expect(placed.reduce(0) { $0 + $1.count } == 30)
    }
}

/// SplitMix64 for the property test's random models.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
