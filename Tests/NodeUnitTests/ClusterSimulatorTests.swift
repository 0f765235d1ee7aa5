import Balancer
import ClusterSimulator
import Testing

/// The simulator on small clusters: balancing a burst, determinism, conservation of jobs.
@Suite struct ClusterSimulatorTests {
    /// 12 nodes, a burst of 40 short jobs on one node, no further arrivals.
    static func small(seed: UInt64 = 7, balancing: Bool = true) -> ClusterSimulator.Configuration {
        var configuration = ClusterSimulator.Configuration()
        configuration.nodes = 12
        configuration.warmUp = .seconds(2)
        configuration.duration = .seconds(90)
        configuration.seed = seed
        configuration.balancing = balancing
        configuration.workload.burstNodes = 1
        configuration.workload.burstJobsPerNode = 40
        configuration.workload.arrivalsPerSecond = 0
        configuration.workload.minimumWork = 5
        configuration.workload.maximumWork = 30
        configuration.workload.memoryMiB = 16...64
        configuration.agePairsPerSample = 100
        return configuration
    }

    @Test func balancingSpreadsABurst() throws {
        let report = ClusterSimulator.run(Self.small())
        let first = try #require(report.samples.first)
        let peak = report.samples.prefix(4).map(\.loadSpread).max() ?? 0
        #expect(report.migrations > 5)
        #expect(report.samples.contains { $0.loadSpread < peak / 2 })
        #expect(first.loadSpread > 2)
        let makespan = try #require(report.makespan)
        let without = try #require(report.makespanWithoutBalancing)
        #expect(makespan < without, "makespan \(makespan) s with, \(without) s without")
        #expect(report.meanCompletion < report.meanCompletionWithoutBalancing * 0.75, "mean \(report.meanCompletion) s with, \(report.meanCompletionWithoutBalancing) s without")
        #expect(report.bouncingJobs == 0)
    }

    @Test func sameSeedSameRun() {
        let one = ClusterSimulator.run(Self.small(seed: 3))
        let two = ClusterSimulator.run(Self.small(seed: 3))
        let other = ClusterSimulator.run(Self.small(seed: 4))
        #expect(one == two)
        #expect(one != other)
    }

    @Test(arguments: [true, false])
    func noJobIsLost(balancing: Bool) {
        let report = ClusterSimulator.run(Self.small(balancing: balancing))
        #expect(report.jobs == 40)
        #expect(report.completed == 40)
        for sample in report.samples {
            #expect(sample.jobsInSystem + sample.jobsCompleted == 40, "at \(sample.time) s")
        }
    }

    @Test func withoutBalancingNothingMigrates() {
        let report = ClusterSimulator.run(Self.small(balancing: false))
        #expect(report.migrations == 0)
        #expect(report.samples.allSatisfy { $0.migrations == 0 })
        // The run's own unbalanced jobs finish when the separately computed baseline says.
        if let makespan = report.makespan, let baseline = report.makespanWithoutBalancing {
            #expect(abs(makespan - baseline) < 1)
        }
    }

    @Test func lossDoesNotLoseJobs() {
        var configuration = Self.small()
        configuration.lossRate = 0.1
        let report = ClusterSimulator.run(configuration)
        #expect(report.completed == report.jobs)
        #expect(report.migrations > 0)
    }
}
