extension Balancer {
    /// The policy: which of the local node's jobs should move where, or nil to stay put.
    ///
    /// - A node with a migration under way, or whose send switch is off, sends nothing.
    /// - Targets are peers other than the local node that accept jobs (receive switch on, CRIU
    ///   check passed), whose information is younger than ``Settings/maximumInformationAge``,
    ///   and that keep free memory above ``Settings/lowMemoryFraction`` after receiving the job.
    /// - For each job not pinned by `stay`, the target is the peer where the job's marginal cost
    ///   is least (ties by ``Settings/tieBreak``).
    /// - Short of memory (free below ``Settings/lowMemoryFraction``), a job leaves for any target
    ///   with room, even if the CPU is balanced (reason ``Decision/Reason/memory``).
    /// - A move's time and freeze are predicted from the job's memory, its dirty rate and the
    ///   link's rate (``predictMove(memoryBytes:dirtyRate:settings:)``); a job that would be
    ///   frozen longer than ``Settings/maximumAutomaticFreeze`` stays, unless memory is short.
    /// - Otherwise a job leaves only if it has run, and stayed since its last move, at least
    ///   ``Settings/minimumRunFactor`` times its predicted migration time (and ``Settings/minimumResidency``
    ///   after a move), and its marginal cost here exceeds ``Settings/stabilityMargin`` times its
    ///   marginal cost on the target.
    /// - Of the jobs that qualify, the one with the largest gain (cost here − cost there) per
    ///   second of migration moves: with one outgoing migration at a time, the node's link is
    ///   the bottleneck, so a small job that gains almost as much goes first (a burst of 50 jobs
    ///   on one of 20 simulated nodes: mean completion 55 s, against 75 s when the largest gain
    ///   moves first, which picks the largest jobs). Short of memory, the largest gain moves,
    ///   whatever the transfer time. Ties go to the smaller job, then the lower id.
    public static func decide(
        local: Node, jobs: [Job], peers: [Node], migrationInProgress: Bool, settings: Settings
    ) -> Decision? {
        guard settings.sendsJobs, !migrationInProgress, !jobs.isEmpty else { return nil }
        let targets = peers.lazy.filter { peer in
            peer.id != local.id && peer.acceptsJobs && peer.cpus > 0 && peer.memoryTotalKiB > 0
                && isFresh(peer, settings: settings)
        }.map { Target($0, settings: settings) }
        let candidates = Array(targets)
        guard !candidates.isEmpty else { return nil }
        let short = isShortOfMemory(local, settings: settings)

        var best: Decision?
        var bestMemory: UInt64 = 0
        var bestRank = 0.0
        var bestJob = ""
        for job in jobs where !job.stay {
            let prediction = predictMove(memoryBytes: Double(job.memoryKiB) * 1024, dirtyRate: job.dirtyRate, settings: settings)
            let migration = prediction.total
            if !short && prediction.frozen > settings.maximumAutomaticFreeze { continue }
            if !short && !hasPaidForMove(job, migrationTime: migration, settings: settings) { continue }
            guard let (target, there) = cheapest(for: job, among: candidates, from: local.id, settings: settings) else {
                continue
            }
            let here = marginalCostHere(of: job, on: local, settings: settings)
            if !short && !(here > settings.stabilityMargin * there) { continue }
            let gain = here - there
            let rank = short ? gain : gain / max(seconds(migration), 0.1)
            if best != nil {
                let better = rank > bestRank || (rank == bestRank && (job.memoryKiB, job.id) < (bestMemory, bestJob))
                if !better { continue }
            }
            bestRank = rank
            bestJob = job.id
            best = Decision(
                job: job.id, target: target, reason: short ? .memory : .load,
                estimatedGain: gain, migrationTime: migration, frozen: prediction.frozen)
            bestMemory = job.memoryKiB
        }
        return best
    }

    /// Whether the peer's information is young enough to act on.
    static func isFresh(_ peer: Node, settings: Settings) -> Bool {
        guard let limit = settings.maximumInformationAge, let age = peer.informationAge else { return true }
        return age <= limit
    }

    /// Whether free memory is below ``Settings/lowMemoryFraction`` of the total.
    public static func isShortOfMemory(_ node: Node, settings: Settings) -> Bool {
        Double(node.memoryFreeKiB) < settings.lowMemoryFraction * Double(node.memoryTotalKiB)
    }

    /// The job's memory at ``Settings/transferRate``.
    public static func migrationTime(of job: Job, settings: Settings) -> Duration {
        .seconds(Double(job.memoryKiB) * 1024 / max(settings.transferRate, 1))
    }

    /// Whether the job has run long enough, and stayed long enough since its last move, to pay
    /// for a migration taking `migrationTime`.
    public static func hasPaidForMove(_ job: Job, migrationTime: Duration, settings: Settings) -> Bool {
        let needed = seconds(migrationTime) * settings.minimumRunFactor
        guard seconds(job.runTime) >= needed else { return false }
        if let since = job.lastMigration {
            return seconds(since) >= max(needed, seconds(settings.minimumResidency))
        }
        return true
    }

    /// The target with the least marginal cost for `job` that has room for it.
    static func cheapest(
        for job: Job, among targets: [Target], from local: UInt64, settings: Settings
    ) -> (UInt64, Double)? {
        var best: (id: UInt64, cost: Double, key: UInt64)?
        for target in targets where target.hasRoom(for: job, settings: settings) {
            let cost = target.marginalCost(of: job, settings: settings)
            let key = tieKey(target.node.id, from: local, settings: settings)
            if let current = best, (cost, key) >= (current.cost, current.key) { continue }
            best = (target.node.id, cost, key)
        }
        return best.map { ($0.id, $0.cost) }
    }

    /// Orders peers of equal cost: the id itself, or a SplitMix64 hash of (sender, peer) so that
    /// each sender has its own deterministic order.
    static func tieKey(_ peer: UInt64, from local: UInt64, settings: Settings) -> UInt64 {
        switch settings.tieBreak {
        case .lowestID:
            return peer
        case .spread:
            var z = peer ^ (local &* 0x9E37_79B9_7F4A_7C15)
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A duration in seconds.
    public static func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }
}
