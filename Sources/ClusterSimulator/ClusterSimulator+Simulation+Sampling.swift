import Balancer
import Membership

extension ClusterSimulator.Simulation {
    typealias Statistics = ClusterSimulator.Statistics

    /// The cluster now: load spread, information age over random pairs, migrations.
    func takeSample() -> ClusterSimulator.Sample {
        let reference = configuration.settings.referenceMHz
        let normalised = nodes.map { node in
            Double(node.jobs.count) / (Double(node.hardware.cpus) * Double(node.hardware.cpuMHz) / reference)
        }
        let overloaded = nodes.contains { $0.jobs.count > $0.hardware.cpus }
        let idle = nodes.count { $0.jobs.isEmpty && $0.incoming == 0 && $0.hardware.acceptsJobs }

        var sampleAges: [Double] = []
        var sampleStaleness: [Double] = []
        var stale = 0
        if nodes.count > 1 {
            for _ in 0..<configuration.agePairsPerSample {
                let viewer = Int(random.next() % UInt64(nodes.count))
                var owner = Int(random.next() % UInt64(nodes.count - 1))
                if owner >= viewer { owner += 1 }
                guard let member = nodes[viewer].membership.members[nodes[owner].id] else { continue }
                let (held, superseded) = nodes[owner].publication(holding: member.incarnation)
                sampleAges.append(Balancer.seconds(now - (held ?? .zero)))
                sampleStaleness.append(superseded.map { Balancer.seconds(now - $0) } ?? 0)
                if superseded != nil { stale += 1 }
            }
        }
        ages += sampleAges
        stalenesses += sampleStaleness

        let interval = Balancer.seconds(configuration.sampleInterval)
        let sample = ClusterSimulator.Sample(
            time: Balancer.seconds(now - (.zero + configuration.warmUp)),
            loadSpread: (normalised.max() ?? 0) - (normalised.min() ?? 0),
            loadStandardDeviation: Statistics.standardDeviation(normalised),
            idleWhileOverloaded: overloaded ? Double(idle) / Double(nodes.count) : 0,
            jobsInSystem: jobs.count { $0.completed == nil },
            jobsCompleted: jobs.count { $0.completed != nil },
            migrations: migrationCount,
            migrationsPerSecond: Double(migrationCount - migrationsAtLastSample) / interval,
            bouncingJobs: jobs.count { $0.moves > 2 },
            informationAgeMedian: Statistics.quantile(sampleAges, 0.5),
            informationAgeP99: Statistics.quantile(sampleAges, 0.99),
            stalenessMedian: Statistics.quantile(sampleStaleness, 0.5),
            stalenessP99: Statistics.quantile(sampleStaleness, 0.99),
            staleFraction: sampleAges.isEmpty ? 0 : Double(stale) / Double(sampleAges.count))
        migrationsAtLastSample = migrationCount
        return sample
    }

    /// The whole run, with the same workload computed without balancing beside it.
    func report() -> ClusterSimulator.Report {
        let baseline = ClusterSimulator.Processor.withoutBalancing(arrivals, hardware: hardware, configuration: configuration)
        let finished = jobs.filter { $0.completed != nil }
        let first = arrivals.first?.at ?? .zero
        let last = finished.compactMap(\.completed).max()
        let allDone = finished.count == arrivals.count
        return ClusterSimulator.Report(
            nodes: configuration.nodes, seconds: Balancer.seconds(configuration.duration), seed: configuration.seed,
            balancing: configuration.balancing, placement: configuration.placement, placements: placements,
            stabilityMargin: configuration.settings.stabilityMargin,
            minimumRunFactor: configuration.settings.minimumRunFactor,
            lowMemoryFraction: configuration.settings.lowMemoryFraction,
            samples: samples, jobs: arrivals.count, completed: finished.count,
            migrations: migrationCount, memoryMigrations: memoryMigrations,
            bouncingJobs: jobs.count { $0.moves > 2 }, maximumMoves: jobs.map(\.moves).max() ?? 0,
            datagrams: datagrams,
            makespan: allDone ? last.map { Balancer.seconds($0 - first) } ?? 0 : nil,
            meanCompletion: Statistics.mean(finished.compactMap { job in job.completed.map { Balancer.seconds($0 - job.arrival) } }),
            makespanWithoutBalancing: baseline.makespan,
            meanCompletionWithoutBalancing: baseline.meanCompletion,
            informationAgeMedian: Statistics.quantile(ages, 0.5), informationAgeP99: Statistics.quantile(ages, 0.99),
            stalenessMedian: Statistics.quantile(stalenesses, 0.5), stalenessP99: Statistics.quantile(stalenesses, 0.99))
    }
}
