import Balancer
import Membership

extension ClusterSimulator {
    /// A job to start: when, where, how much work and memory.
    struct Arrival {
        var at: Membership.Instant
        var node: Int
        var work: Double
        var memoryKiB: UInt64

        /// The workload's arrivals in time order, drawn from their own random stream so the run
        /// with balancing and the one without get the same jobs.
        static func plan(_ configuration: Configuration) -> [Arrival] {
            let workload = configuration.workload
            var random = Membership.RandomSource(seed: configuration.seed ^ 0x5EED_A77A)
            func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
            func job(at: Membership.Instant, node: Int) -> Arrival {
                let work = min(workload.maximumWork, workload.minimumWork * Balancer.power(max(uniform(), 1e-12), -1 / workload.workShape))
                let low = workload.memoryMiB.lowerBound
                let mib = low * Balancer.power(workload.memoryMiB.upperBound / low, uniform())
                return Arrival(at: at, node: node, work: work, memoryKiB: UInt64(mib * 1024))
            }
            let count = configuration.nodes
            var order = Array(0..<count)
            order.shuffle(using: &random)
            let start = Membership.Instant.zero + configuration.warmUp
            var arrivals: [Arrival] = []
            for node in order.prefix(min(workload.burstNodes, count)) {
                for _ in 0..<workload.burstJobsPerNode { arrivals.append(job(at: start, node: node)) }
            }
            // Arrivals drawn per step (at most a few per step), over the first three quarters.
            let steps = Int(configuration.duration.nanoseconds * 3 / 4 / configuration.step.nanoseconds)
            let perStep = workload.arrivalsPerSecond * Balancer.seconds(configuration.step)
            guard perStep > 0 else { return arrivals }
            for step in 1...max(steps, 1) {
                var expected = perStep
                while expected > 0 {
                    if uniform() < min(expected, 1) {
                        let at = start + .nanoseconds(Int64(step) * configuration.step.nanoseconds)
                        arrivals.append(job(at: at, node: Int(random.next() % UInt64(count))))
                    }
                    expected -= 1
                }
            }
            return arrivals
        }
    }
}
