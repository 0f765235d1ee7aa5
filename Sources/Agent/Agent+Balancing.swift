import Glibc
import Balancer
import ClusterWire
import Jobs
import Logging
import Migration

extension Agent {
    /// Automatic load balancing: once a second, after the load sample, asks
    /// ``Balancer/decide(local:jobs:peers:migrationInProgress:settings:)`` whether one of this
    /// node's jobs should move (``step(load:me:core:jobs:)``); the sampler's task group then
    /// moves it (``move(_:core:jobs:)``), one outgoing migration at a time. On by default;
    /// `cluster balance off` turns this node's sending and receiving off.
    actor Balancing {
        private(set) var enabled = true
        private var settings = Balancing.defaultSettings

        /// The policy's defaults, with pre-copy's rules taken from the migrator's own.
        static var defaultSettings: Balancer.Settings {
            var settings = Balancer.Settings()
            let policy = Migration.Source.Policy()
            settings.precopy.maximumRounds = policy.maxRounds
            settings.precopy.smallRound = Double(policy.smallRound)
            settings.precopy.shrinkFactor = policy.shrinkFactor
            return settings
        }
        private var migrating = false
        /// No decision before this: after a move, the target's new job count needs a gossip
        /// round or two to reach this node, and deciding on the old count sends it too much.
        private var settledAt: ContinuousClock.Instant?
        /// How long that is.
        let settle: Duration = .seconds(3)
        /// CPU seconds each job had used at the last step, and when.
        private var lastCPU: [String: (seconds: Double, at: ContinuousClock.Instant)] = [:]
        /// When each job's dirty rate is next measured (soft-dirty bits cleared, read a step
        /// later): every ``dirtySampleInterval``, so a job's pagemap is read twice in that time.
        private var dirtyDue: [String: ContinuousClock.Instant] = [:]
        /// Jobs whose bits were cleared at the last step, to be read at this one.
        private var dirtyPending: Set<String> = []
        let dirtySampleInterval: Duration = .seconds(10)
        /// Moves made whose arrival gossip has not shown yet.
        private var arrivals = Balancer.Arrivals()
        private let clock = ContinuousClock()
        private let origin = ContinuousClock.now
        let logger: Logger

        init(logger: Logger) {
            self.logger = logger
        }

        func set(enabled: Bool) {
            self.enabled = enabled
            logger.info("automatic balancing \(enabled ? "on" : "off")")
        }

        /// Whether this node takes jobs: balancing on and CRIU usable here.
        func acceptsJobs(criuWorks: Bool) -> Bool { enabled && criuWorks }

        /// A move the balancer decided on.
        struct Move: Sendable {
            let job: String
            let target: Wire.MemberUpdate
            let memoryKiB: UInt64
            /// The most the final dump may copy (``Migration/Source/Policy/maximumFinalBytes``).
            let maximumFinalBytes: UInt64?
            /// The same as a freeze at the rate the move measures (``Migration/Source/Policy/maximumFinalSeconds``).
            let maximumFinalSeconds: Double?
        }

        /// One decision, from this node's `load` sample and what gossip says of the others: the
        /// job to move and where, or nil. From a move until ``move(_:core:jobs:)`` ends, no other.
        func step(load: Wire.NodeLoad, me: Wire.NodeID, core: Core, jobs: Jobs.Supervisor) async -> Move? {
            // The link's rate as the last move from here measured it, the user's moves too.
            if let rate = Migrator.linkRate.withLock({ $0 }) { settings.transferRate = rate }
            guard enabled, !migrating else { return nil }
            let now = clock.now
            if let settledAt, now < settledAt { return nil }
            let wall = UInt64(time(nil))
            let snapshots = await jobs.snapshots().filter { $0.record.state == .running }
            let runnable = Double(snapshots.count)
            var candidates: [Balancer.Job] = []
            var seen: Set<String> = []
            for snapshot in snapshots {
                let id = snapshot.record.id
                seen.insert(id)
                defer { lastCPU[id] = (snapshot.usage.cpuSeconds, now) }
                guard let last = lastCPU[id] else { continue }
                let elapsed = (now - last.at).seconds
                guard elapsed > 0.2 else { continue }
                let rate = max(0, snapshot.usage.cpuSeconds - last.seconds) / elapsed
                // CPU share times contention: a CPU-bound job sharing one CPU with three others
                // gets 0.25 of it but is runnable all the time.
                let demand = min(1, rate * max(1, runnable / Double(max(1, load.cpus))))
                let arrived = snapshot.record.migrations.last.map { Duration.seconds(Int64(wall) - Int64($0.at)) }
                // A job that cannot move (Migrator.immovable) counts for the load but stays.
                let stays = snapshot.record.stay || Migrator.immovable(snapshot.record, trust: core.settings.trust) != nil
                var dirtyRate = snapshot.dirtyRate
                if !stays {
                    if dirtyPending.remove(id) != nil {
                        dirtyRate = await jobs.sampleDirtyRate(id, now: now) ?? dirtyRate
                    } else if now >= dirtyDue[id] ?? now {
                        _ = await jobs.sampleDirtyRate(id, now: now)
                        dirtyPending.insert(id)
                        dirtyDue[id] = now + dirtySampleInterval
                    }
                }
                candidates.append(Balancer.Job(
                    id: id, demand: demand, memoryKiB: snapshot.usage.memoryKiB,
                    runTime: .seconds(Int64(wall) - Int64(snapshot.record.startedAt)),
                    stay: stays, lastMigration: arrived, dirtyRate: dirtyRate ?? 0))
            }
            lastCPU = lastCPU.filter { seen.contains($0.key) }
            dirtyDue = dirtyDue.filter { seen.contains($0.key) }
            dirtyPending.formIntersection(seen)
            let local = Self.node(me, load)
            // Suspects too: a node busy with jobs is suspected now and then under load, and a
            // move to a node that really died fails fast and leaves the job here.
            let members = await core.liveMembers()
            let elapsed = now - origin
            let peers = arrivals.adjust(members.map { Self.node($0.node, $0.load) }, at: elapsed)
            guard let decision = Balancer.decide(
                local: local, jobs: candidates, peers: peers, migrationInProgress: migrating, settings: settings),
                  let target = members.first(where: { $0.node.rawValue == decision.target }) else { return nil }
            let memory = candidates.first(where: { $0.id == decision.job })?.memoryKiB ?? 0
            migrating = true
            arrivals.record(
                target: decision.target, gossipedJobs: Int(target.load.runningJobs), memoryKiB: memory, at: elapsed)
            logger.info("balancer: moving job \(decision.job) to \(target.load.hostname) (\(decision.reason), gain \(decision.estimatedGain), predicted \(decision.migrationTime) in all, frozen \(decision.frozen))")
            // The move gives up before its freeze if the job turns out to write faster than
            // predicted: the final dump may copy what the link carries in the freeze allowed.
            let finalBytes = decision.reason == .memory ? nil : UInt64(Balancer.seconds(settings.maximumAutomaticFreeze) * settings.transferRate)
            return Move(
                job: decision.job, target: target, memoryKiB: memory, maximumFinalBytes: finalBytes,
                maximumFinalSeconds: finalBytes == nil ? nil : Balancer.seconds(settings.maximumAutomaticFreeze))
        }

        /// Makes a move ``step(load:me:core:jobs:)`` decided on, and learns from how it went.
        nonisolated func move(_ move: Move, core: Core, jobs: Jobs.Supervisor) async {
            do {
                let outcome = try await Migrator(core: core, jobs: jobs, logger: logger)
                    .migrate(move.job, to: move.target, maximumFinalBytes: move.maximumFinalBytes, maximumFinalSeconds: move.maximumFinalSeconds)
                await finished(restoreSeconds: outcome.restoreSeconds)
            } catch {
                logger.warning("balancer: job \(move.job) stays: \(error)")
                await failed(target: move.target.node.rawValue, memoryKiB: move.memoryKiB)
            }
        }

        /// A move failed: the job stayed, so the target does not have it.
        private func failed(target: UInt64, memoryKiB: UInt64) {
            arrivals.withdraw(target: target, memoryKiB: memoryKiB)
            finished(restoreSeconds: 0)
        }

        /// A move ended; a successful one measures the restore's duration (restore request →
        /// `restored`), which future estimates use. The link's rate is the migrator's one
        /// estimate (``Migrator/linkRate``), which ``step(load:me:core:jobs:)`` reads: a move
        /// too small to time the link (a few MiB measured 3 MB/s on a 26 MB/s link) does not
        /// set it.
        private func finished(restoreSeconds: Double) {
            migrating = false
            settledAt = clock.now + settle
            if restoreSeconds > 0 {
                settings.restoreSeconds = restoreSeconds
            }
        }

        /// Where a new job should start.
        enum PlacementChoice: Sendable {
            case here(Balancer.Placement)
            case there(Wire.MemberUpdate, Balancer.Placement)
        }

        /// Starts chosen here and not returned yet, and the count this node should have once
        /// they are all in: the supervisor counts a start before it returns, so adding the two
        /// counted it twice (a loopback burst went 5 here, 7 on a peer).
        private var pendingHere = 0
        private var expectedHere: Int?
        /// Per target: placed starts not answered yet, and the incarnation after which its
        /// gossip counts every answered one (``Control/Job/countedAfterIncarnation``).
        private var placing: [UInt64: Int] = [:]
        private var countedAfter: [UInt64: (incarnation: UInt64, answered: ContinuousClock.Instant)] = [:]
        /// How long after a placed start's answer its target's gossip may stand for it. Two
        /// publications after the answer's incarnation are not enough alone: a refutation
        /// republishes the last sampled load, which may predate the start (a loopback burst
        /// went 5/6/6/6/7 under CI's load); the sampler runs every second.
        let confirmAfter: Duration = .seconds(3)

        /// Where a new job starts (``Balancer/place(demand:memoryKiB:local:peers:settings:)``):
        /// `local` (nil: the job may not run here) against `members` that may take it. A
        /// placement elsewhere goes into the ledger the balancer's moves use (``Balancer/Arrivals``),
        /// and one here counts until ``startedHere()``, so a burst of starts spreads. Synchronous
        /// from reading the ledger to writing it: concurrent `cluster run`s see each other.
        func place(local: Balancer.Node?, members: [Wire.MemberUpdate]) -> PlacementChoice? {
            let elapsed = clock.now - origin
            var local = local
            if let expectedHere, let counted = local?.runningJobs { local?.runningJobs = max(counted, expectedHere) }
            let peers = arrivals.adjust(members.map { Self.node($0.node, $0.load) }, at: elapsed)
            guard let placement = Balancer.place(local: local, peers: peers, settings: settings) else { return nil }
            if placement.node == local?.id {
                pendingHere += 1
                expectedHere = (local?.runningJobs ?? 0) + 1
                return .here(placement)
            }
            guard let member = members.first(where: { $0.node.rawValue == placement.node }) else { return nil }
            arrivals.record(target: placement.node, gossipedJobs: Int(member.load.runningJobs), memoryKiB: 0, at: elapsed)
            placing[placement.node, default: 0] += 1
            return .there(member, placement)
        }

        /// A start ``place(local:members:)`` chose here has returned (started or not).
        func startedHere() {
            pendingHere = max(0, pendingHere - 1)
            if pendingHere == 0 { expectedHere = nil }
        }

        /// A start placed on `target` happened; its gossip after `incarnation` counts it.
        func placed(target: UInt64, countedAfter incarnation: UInt64?) {
            placing[target] = max(0, (placing[target] ?? 1) - 1)
            if let incarnation {
                countedAfter[target] = (max(countedAfter[target]?.incarnation ?? 0, incarnation), clock.now)
            }
        }

        /// A start placed on `target` did not happen there.
        func placementFailed(target: UInt64) {
            placing[target] = max(0, (placing[target] ?? 1) - 1)
            arrivals.withdraw(target: target, memoryKiB: 0)
        }

        /// Drops the ledger's count for each target with no start in flight whose gossip now
        /// counts every start placed there: short jobs that ended before gossip showed them
        /// would otherwise make it look busy for the ledger's whole hold (a sweep of 24 short
        /// tasks ran 17 of them on the placing node).
        func confirmPlacements(_ members: [Wire.MemberUpdate]) {
            for member in members {
                let id = member.node.rawValue
                // Two publications later, not one: the target's sampler may have read its count
                // just before the start and published it just after the answer's incarnation.
                guard let after = countedAfter[id], (placing[id] ?? 0) == 0, member.incarnation > after.incarnation + 1,
                      clock.now - after.answered >= confirmAfter else { continue }
                arrivals.confirm(target: id)
                countedAfter[id] = nil
            }
        }

        /// A node as the policy sees it. Its load is its running jobs (the policy takes the
        /// larger of `load` and `runningJobs`): the one-minute load average lags by a minute,
        /// and a node that had just sent jobs away still looked loaded, so it sent all four of
        /// a test's jobs to the other node instead of two. Load from outside jobs is ignored.
        static func node(_ id: Wire.NodeID, _ load: Wire.NodeLoad) -> Balancer.Node {
            Balancer.Node(
                id: id.rawValue, cpus: Int(load.cpus), cpuMHz: Int(load.cpuMHz), load: 0,
                runningJobs: Int(load.runningJobs), memoryTotalKiB: load.memoryTotalKiB, memoryFreeKiB: load.freeMemoryKiB,
                acceptsJobs: load.acceptsJobs, startsJobs: load.startsJobs)
        }
    }
}
