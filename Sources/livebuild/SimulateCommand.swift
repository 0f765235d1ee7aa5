import ArgumentParser
import Balancer
import ClusterSimulator
import Foundation

/// `livebuild simulate`: the balancer and the membership gossip on a simulated cluster (see
/// Docs/balancing.md). Thin: the model is ClusterSimulator's.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the load balancer and membership gossip on a simulated cluster.",
        discussion: "A burst of jobs on a few nodes plus random arrivals; prints load spread, information age and migrations every 5 simulated seconds, then makespan with and without balancing.")

    @Option(help: "Nodes in the cluster.")
    var nodes = 1000

    @Option(help: "Simulated seconds after the warm-up.")
    var seconds = 300

    @Option(help: "Simulated seconds for the membership to form before the first job.")
    var warmUp = 100

    @Option(help: "Seed for hardware, workload, gossip and loss.")
    var seed: UInt64 = 1

    @Option(help: "Stability margin: move only if the cost here exceeds the cost there by this factor.")
    var margin = Balancer.Settings().stabilityMargin

    @Option(help: "A job must have run this many times its migration time before it moves.")
    var runFactor = Balancer.Settings().minimumRunFactor

    @Option(help: "Seconds a migrated job stays at least.")
    var residency = Balancer.seconds(Balancer.Settings().minimumResidency)

    @Option(help: "Free-memory fraction below which a node evicts a job.")
    var lowMemory = Balancer.Settings().lowMemoryFraction

    @Option(help: "Tie-break between equally cheap targets: spread or lowestID.")
    var tieBreak = Balancer.Settings().tieBreak.rawValue

    @Option(help: "Nodes that receive the initial burst.")
    var burstNodes = ClusterSimulator.Workload().burstNodes

    @Option(help: "Jobs per burst node.")
    var burstJobs = ClusterSimulator.Workload().burstJobsPerNode

    @Option(help: "Further jobs per second across the cluster.")
    var arrivals = ClusterSimulator.Workload().arrivalsPerSecond

    @Option(help: "Fraction of datagrams lost (0...1).")
    var loss = 0.0

    @Flag(help: "Turn balancing off (every node's send switch).")
    var noBalancing = false

    @Flag(help: "Start each job where `cluster run` would place it, not on the node it arrives at.")
    var placement = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard nodes >= 2 else { throw ValidationError("--nodes must be at least 2") }
        guard seconds >= 1, warmUp >= 0 else { throw ValidationError("--seconds must be at least 1 and --warm-up not negative") }
        guard margin >= 1 else { throw ValidationError("--margin must be at least 1") }
        guard (0...1).contains(loss), (0...1).contains(lowMemory) else { throw ValidationError("--loss and --low-memory must be within 0...1") }
        guard Balancer.Settings.TieBreak(rawValue: tieBreak) != nil else {
            throw ValidationError("--tie-break must be one of: \(Balancer.Settings.TieBreak.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    struct Output: Codable {
        var report: ClusterSimulator.Report
        var wallSeconds: Double
    }

    func run() throws {
        var configuration = ClusterSimulator.Configuration()
        configuration.nodes = nodes
        configuration.duration = .seconds(seconds)
        configuration.warmUp = .seconds(warmUp)
        configuration.seed = seed
        configuration.balancing = !noBalancing
        configuration.placement = placement
        configuration.lossRate = loss
        configuration.settings.stabilityMargin = margin
        configuration.settings.minimumRunFactor = runFactor
        configuration.settings.minimumResidency = .seconds(residency)
        configuration.settings.lowMemoryFraction = lowMemory
        configuration.settings.tieBreak = Balancer.Settings.TieBreak(rawValue: tieBreak) ?? .spread
        configuration.workload.burstNodes = burstNodes
        configuration.workload.burstJobsPerNode = burstJobs
        configuration.workload.arrivalsPerSecond = arrivals

        let f = { (value: Double) in BenchCommand.fixed(value, places: 2) }
        if !json {
            print("simulate: \(nodes) nodes, \(seconds) s after \(warmUp) s warm-up, seed \(seed), margin \(f(margin)), run factor \(f(runFactor)), low memory \(f(lowMemory)), balancing \(noBalancing ? "off" : "on"), placement \(placement ? "on" : "off")")
            print("  time  spread  stddev  idle%   jobs   done  migr  migr/s  bounce   age50  age99  stale50  stale99  stale%")
        }
        let clock = ContinuousClock()
        let started = clock.now
        let report = ClusterSimulator.run(configuration) { s in
            guard !json else { return }
            let columns = [
                pad(f(s.time), 6), pad(f(s.loadSpread), 7), pad(f(s.loadStandardDeviation), 7),
                pad(f(s.idleWhileOverloaded * 100), 6), pad("\(s.jobsInSystem)", 6), pad("\(s.jobsCompleted)", 6),
                pad("\(s.migrations)", 5), pad(f(s.migrationsPerSecond), 7), pad("\(s.bouncingJobs)", 7),
                pad(f(s.informationAgeMedian), 7), pad(f(s.informationAgeP99), 6), pad(f(s.stalenessMedian), 8),
                pad(f(s.stalenessP99), 8), pad(f(s.staleFraction * 100), 7),
            ]
            print(columns.joined(separator: " "))
        }
        let wall = Balancer.seconds(clock.now - started)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            FileHandle.standardOutput.write(try encoder.encode(Output(report: report, wallSeconds: wall)))
            print()
            return
        }
        let makespan = { (value: Double?) in value.map { f($0) + " s" } ?? "not all finished" }
        print("jobs \(report.jobs), finished \(report.completed), placed elsewhere at start \(report.placements); migrations \(report.migrations) (\(BenchCommand.fixed(Double(report.migrations) / Double(max(1, report.jobs)), places: 2)) per job) (\(report.memoryMigrations) for memory), jobs moved > 2 times \(report.bouncingJobs), most moves \(report.maximumMoves)")
        print("makespan \(makespan(report.makespan)) with balancing, \(makespan(report.makespanWithoutBalancing)) without; mean completion \(f(report.meanCompletion)) s with, \(f(report.meanCompletionWithoutBalancing)) s without")
        print("information age median \(f(report.informationAgeMedian)) s, p99 \(f(report.informationAgeP99)) s; out of date median \(f(report.stalenessMedian)) s, p99 \(f(report.stalenessP99)) s")
        print("datagrams \(report.datagrams); wall time \(f(wall)) s")
    }

    func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
