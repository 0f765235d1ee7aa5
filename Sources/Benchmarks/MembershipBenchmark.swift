import ClusterControl
import Foundation
import HostTools
import LiveBuild
import LoopbackHarness

/// How fast real `clusterd` agents on loopback see a new agent join and a killed agent die.
///
/// Method (the same as the memberlist reference in Tests/Reference/memberlist): start `agents-1`
/// agents and wait until they all see each other; then, each round, start one brand-new agent
/// (instant T0) and poll every other agent's control socket until each lists it alive. Each agent
/// reports how long ago it saw the change, so the instant it saw it is exact whatever the polling
/// rate; the round's join time is the latest of those instants minus T0 ("listed by every
/// peer"). Then SIGKILL the new agent (T1) and time the same way until every other agent lists
/// it dead.
public struct MembershipBenchmark: Sendable {
    public var clusterd: String
    public var agents: Int
    public var rounds: Int
    public var scratch: String
    public var deadline: Duration = .seconds(60)
    /// How often the observers are polled. Accuracy does not depend on it (each observer reports
    /// how long ago it saw the change), but its load does: every poll asks every observer not
    /// yet done for its whole view, and at 20 ms that load alone, on a 2-core host with 100
    /// agents, delayed the agents it was measuring.
    public var pollInterval: Duration = .milliseconds(250)

    public init(clusterd: String, agents: Int, rounds: Int, scratch: String) {
        self.clusterd = clusterd
        self.agents = agents
        self.rounds = rounds
        self.scratch = scratch
    }

    public struct Report: Sendable, Codable {
        public var agents: Int
        public var joinSeconds: [Double]
        public var failureSeconds: [Double]

        public init(agents: Int, joinSeconds: [Double], failureSeconds: [Double]) {
            self.agents = agents
            self.joinSeconds = joinSeconds
            self.failureSeconds = failureSeconds
        }

        /// CPU the converged agents use together while nothing happens, in percent of one core
        /// (over ``MembershipBenchmark/idleWindow``); nil for the reference.
        public var idleCPUPercent: Double?

        public var medianJoin: Double { Self.median(joinSeconds) }
        public var maxJoin: Double { joinSeconds.max() ?? 0 }
        public var medianFailure: Double { Self.median(failureSeconds) }
        public var maxFailure: Double { failureSeconds.max() ?? 0 }

        static func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
    }

    public func run(progress: (String) -> Void = { _ in }) async throws -> Report {
        let base = agents - 1
        let cluster = try LoopbackCluster(clusterd: clusterd, count: base + rounds, directory: scratch)
        defer { cluster.stopAll() }
        for index in 0..<base { try cluster.start(index) }
        try await waitUntil("the first \(base) agents see each other alive", cluster: cluster) {
            (0..<base).allSatisfy { observer in
                (cluster.nodes(observer)?.filter { $0.state == .alive }.count ?? 0) == base
            }
        }
        progress("\(base) agents converged")

        var report = Report(agents: agents, joinSeconds: [], failureSeconds: [])
        report.idleCPUPercent = try await idleCPU(cluster: cluster, agents: 0..<base)
        for round in 0..<rounds {
            let newcomer = base + round
            let joinStart = Date()
            try cluster.start(newcomer)
            let joined = try await waitForAll(cluster: cluster, observers: 0..<base, subject: newcomer, state: .alive)
            report.joinSeconds.append(joined.timeIntervalSince(joinStart))

            let killed = Date()
            cluster.kill(newcomer)
            let dead = try await waitForAll(cluster: cluster, observers: 0..<base, subject: newcomer, state: .dead)
            report.failureSeconds.append(dead.timeIntervalSince(killed))
            progress("round \(round + 1): join \(report.joinSeconds.last ?? 0) s, failure detection \(report.failureSeconds.last ?? 0) s")
        }
        return report
    }

    /// How long the idle agents' CPU time is measured.
    public static let idleWindow: Duration = .seconds(5)

    /// CPU used by `agents` together over ``idleWindow``, in percent of one core.
    func idleCPU(cluster: LoopbackCluster, agents: Range<Int>) async throws -> Double {
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let before = agents.compactMap(cluster.cpuTicks).reduce(0, +)
        try await Task.sleep(for: Self.idleWindow)
        let after = agents.compactMap(cluster.cpuTicks).reduce(0, +)
        return Double(after - before) / ticksPerSecond / Double(Self.idleWindow.components.seconds) * 100
    }

    /// Polls until every observer lists `subject` in `state`; returns the latest instant at
    /// which an observer saw it change (now minus the age each observer reports).
    func waitForAll(cluster: LoopbackCluster, observers: Range<Int>, subject: Int, state: Control.Node.State) async throws -> Date {
        var seen: [Int: Date] = [:]
        let end = ContinuousClock.now + deadline
        while seen.count < observers.count {
            for observer in observers where seen[observer] == nil {
                let polled = Date()
                if let row = cluster.nodes(observer)?.first(where: { $0.id == cluster.nodeID(subject) }), row.state == state {
                    seen[observer] = polled.addingTimeInterval(-row.stateChangedSecondsAgo)
                }
            }
            if ContinuousClock.now > end {
                let missing = observers.filter { seen[$0] == nil }.map(cluster.hostname).joined(separator: ", ")
                throw LiveBuildError(code: .tool, message: "\(cluster.hostname(subject)) was not seen \(state) by \(missing) within \(deadline)")
            }
            try await Task.sleep(for: pollInterval)
        }
        return seen.values.max() ?? Date()
    }

    func waitUntil(_ what: String, cluster: LoopbackCluster, _ condition: () -> Bool) async throws {
        let end = ContinuousClock.now + deadline
        while !condition() {
            if ContinuousClock.now > end {
                throw LiveBuildError(code: .tool, message: "timed out waiting until \(what); agent log: \(cluster.logTail(0))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

extension MembershipBenchmark {
    /// Runs the memberlist reference (Tests/Reference/memberlist) with the same agents and
    /// rounds and reads its JSON report.
    public static func reference(binary: String, agents: Int, rounds: Int) async throws -> Report {
        let output: ToolRunner.Output
        do {
            output = try await ToolRunner().run(binary, ["-agents", String(agents), "-rounds", String(rounds), "-json"])
        } catch {
            throw LiveBuildError(code: .tool, message: "the memberlist reference \(binary) failed: \(error)")
        }
        let data = Data(output.standardOutput.utf8)
        struct Theirs: Decodable { var joinSeconds: [Double]; var failureSeconds: [Double] }
        let theirs = try JSONDecoder().decode(Theirs.self, from: data)
        return Report(agents: agents, joinSeconds: theirs.joinSeconds, failureSeconds: theirs.failureSeconds)
    }
}
