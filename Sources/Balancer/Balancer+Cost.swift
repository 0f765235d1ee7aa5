extension Balancer {
    /// A node's CPU capacity in reference cores: cpus × MHz / ``Settings/referenceMHz``, so a node
    /// twice as fast absorbs twice the load for the same cost. An unknown speed (0) counts as the
    /// reference.
    public static func capacity(of node: Node, settings: Settings) -> Double {
        let mhz = node.cpuMHz > 0 ? Double(node.cpuMHz) : settings.referenceMHz
        return Double(max(node.cpus, 1)) * mhz / settings.referenceMHz
    }

    /// The CPU load the policy works with: the smoothed load, but never less than the jobs the
    /// agent runs, since the smoothed figure lags arrivals (a node that just received jobs must
    /// not look idle to the next sender).
    public static func cpuLoad(of node: Node) -> Double {
        max(node.load, Double(node.runningJobs))
    }

    /// Relative utilisation of each resource: CPU load over capacity (may exceed 1), and used
    /// memory over total (0...1).
    public static func utilisation(of node: Node, settings: Settings) -> (cpu: Double, memory: Double) {
        let cpu = cpuLoad(of: node) / capacity(of: node, settings: settings)
        guard node.memoryTotalKiB > 0 else { return (cpu, 1) }
        let used = Double(node.memoryTotalKiB) - Double(min(node.memoryFreeKiB, node.memoryTotalKiB))
        return (cpu, used / Double(node.memoryTotalKiB))
    }

    /// The opportunity cost of a node (Amir, Awerbuch, Barak, Borgstrom, Keren, IEEE TPDS 2000):
    /// Σ over resources of a^u, u the resource's relative utilisation. Exponential, so the same
    /// extra work costs more on a busier node, and a resource near exhaustion dominates.
    public static func cost(of node: Node, settings: Settings) -> Double {
        let u = utilisation(of: node, settings: settings)
        return power(settings.costBase, u.cpu) + power(settings.costBase, u.memory)
    }

    /// What `job` adds to the cost of `local`, where it runs now: cost with it minus cost
    /// without it.
    public static func marginalCostHere(of job: Job, on local: Node, settings: Settings) -> Double {
        let u = utilisation(of: local, settings: settings)
        let a = settings.costBase
        let cpuShare = job.demand / capacity(of: local, settings: settings)
        let memoryShare = local.memoryTotalKiB > 0 ? Double(job.memoryKiB) / Double(local.memoryTotalKiB) : 0
        return power(a, u.cpu) - power(a, max(0, u.cpu - cpuShare))
            + power(a, u.memory) - power(a, max(0, u.memory - memoryShare))
    }

    /// What `job` would add to the cost of `peer`: cost with it minus cost now.
    public static func marginalCostThere(of job: Job, on peer: Node, settings: Settings) -> Double {
        Target(peer, settings: settings).marginalCost(of: job, settings: settings)
    }

    /// A candidate target with the parts of its cost that do not depend on the job computed once.
    struct Target {
        var node: Node
        var capacity: Double
        var cpuCost: Double
        var memoryCost: Double

        init(_ node: Node, settings: Settings) {
            self.node = node
            capacity = Balancer.capacity(of: node, settings: settings)
            let u = Balancer.utilisation(of: node, settings: settings)
            cpuCost = Balancer.power(settings.costBase, u.cpu)
            memoryCost = Balancer.power(settings.costBase, u.memory)
        }

        /// a^(u+x) − a^u = a^u (a^x − 1) for each resource.
        func marginalCost(of job: Job, settings: Settings) -> Double {
            let a = settings.costBase
            let memoryShare = node.memoryTotalKiB > 0 ? Double(job.memoryKiB) / Double(node.memoryTotalKiB) : 1
            return cpuCost * (Balancer.power(a, job.demand / capacity) - 1)
                + memoryCost * (Balancer.power(a, memoryShare) - 1)
        }

        /// Whether the job fits and leaves the node above the low-memory threshold (so it is not
        /// evicted again at once).
        func hasRoom(for job: Job, settings: Settings) -> Bool {
            let reserve = settings.lowMemoryFraction * Double(node.memoryTotalKiB)
            return Double(node.memoryFreeKiB) >= Double(job.memoryKiB) + reserve
        }
    }
}
