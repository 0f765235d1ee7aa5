import Balancer
import Membership

extension ClusterSimulator {
    /// Processor sharing: a node's CPUs divided equally among its runnable jobs.
    enum Processor {
        /// Runs the jobs in `running` for `interval` on `hardware`; returns the ones that finished
        /// (marked completed at `now`) and removes them from `running`.
        static func run(
            _ running: inout [Int], jobs: inout [Job], hardware: Hardware, interval: Double,
            now: Membership.Instant, referenceMHz: Double
        ) -> [Int] {
            guard !running.isEmpty else { return [] }
            let share = min(1, Double(hardware.cpus) / Double(running.count))
            let work = share * Double(hardware.cpuMHz) / referenceMHz * interval
            var finished: [Int] = []
            for job in running {
                jobs[job].remaining -= work
                if jobs[job].remaining <= 0 {
                    jobs[job].completed = now
                    finished.append(job)
                }
            }
            if !finished.isEmpty { running.removeAll { jobs[$0].completed != nil } }
            return finished
        }

        /// Makespan and mean completion of `arrivals` with no balancing: each job stays where it
        /// starts. No gossip is needed for that, so it is computed directly (10× the run's step).
        static func withoutBalancing(
            _ arrivals: [Arrival], hardware: [Hardware], configuration: Configuration
        ) -> (makespan: Double?, meanCompletion: Double) {
            var jobs = arrivals.enumerated().map { index, arrival in
                Job(index: index, remaining: arrival.work, memoryKiB: arrival.memoryKiB, arrival: arrival.at, node: arrival.node)
            }
            guard let first = arrivals.first?.at else { return (0, 0) }
            var running = Array(repeating: [Int](), count: hardware.count)
            let step = Duration.nanoseconds(configuration.step.nanoseconds * 10)
            let interval = Balancer.seconds(step)
            var now = first
            var next = 0
            var remaining = jobs.count
            var last = first
            let limit = first + .seconds(Balancer.seconds(configuration.duration) * 100)
            while remaining > 0 && now < limit {
                while next < arrivals.count && arrivals[next].at <= now {
                    running[arrivals[next].node].append(next)
                    next += 1
                }
                now = now + step
                for node in running.indices where !running[node].isEmpty {
                    let done = run(&running[node], jobs: &jobs, hardware: hardware[node], interval: interval,
                                   now: now, referenceMHz: configuration.settings.referenceMHz)
                    remaining -= done.count
                    if !done.isEmpty { last = now }
                }
            }
            let completions = jobs.compactMap { job in job.completed.map { Balancer.seconds($0 - job.arrival) } }
            return (remaining == 0 ? Balancer.seconds(last - first) : nil, Statistics.mean(completions))
        }
    }
}
