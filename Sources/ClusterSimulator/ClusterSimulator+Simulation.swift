import Balancer
import ClusterWire
import Membership

extension ClusterSimulator {
    /// Runs `configuration` to the end and reports; `progress` receives each sample as it is
    /// taken. Deterministic: the same configuration gives the same report.
    public static func run(_ configuration: Configuration, progress: (Sample) -> Void = { _ in }) -> Report {
        let simulation = Simulation(configuration)
        return simulation.run(progress: progress)
    }

    /// The engine: a fixed-step clock, a datagram queue per step, the nodes and their jobs.
    final class Simulation {
        struct Packet {
            var to: Int
            var from: Wire.NodeID
            var source: Wire.Address
            var message: Wire.Message
        }

        let configuration: Configuration
        let hardware: [Hardware]
        let arrivals: [Arrival]
        var nodes: [Node] = []
        var jobs: [Job] = []
        var migrations: [Migration] = []
        var random: Membership.RandomSource
        var now = Membership.Instant.zero
        var stepIndex = 0
        let stepsPerSecond: Int
        let latencySteps: Int
        var buckets: [[Packet]]
        var addressIndex: [Wire.Address: Int] = [:]
        let decay: Double
        var nextArrival = 0
        var datagrams = 0
        var migrationCount = 0
        var memoryMigrations = 0
        /// Jobs that started on another node than the one they arrived at.
        var placements = 0
        var migrationsAtLastSample = 0
        var nextSample: Membership.Instant
        var samples: [Sample] = []
        var ages: [Double] = []
        var stalenesses: [Double] = []

        init(_ configuration: Configuration) {
            self.configuration = configuration
            var draws = Membership.RandomSource(seed: configuration.seed ^ 0xC1D5_7E11)
            hardware = (0..<configuration.nodes).map { Hardware.mix(index: $0, draw: draws.next()) }
            arrivals = Arrival.plan(configuration)
            random = Membership.RandomSource(seed: configuration.seed ^ 0x1055_0000)
            let step = max(configuration.step.nanoseconds, 1)
            stepsPerSecond = max(1, Int(1_000_000_000 / step))
            latencySteps = max(1, Int((configuration.latency.nanoseconds + step - 1) / step))
            buckets = Array(repeating: [], count: latencySteps + 1)
            decay = Balancer.power(2.718_281_828_459_045, -1 / max(Balancer.seconds(configuration.loadSmoothing), 1e-3))
            nextSample = .zero + configuration.warmUp
        }

        static func address(_ index: Int) -> Wire.Address {
            Wire.Address(host: "10.\(index / 62500).\(index / 250 % 250).\(index % 250 + 1)", port: 7946)
        }

        func start() {
            var seeds = Membership.RandomSource(seed: configuration.seed)
            for index in hardware.indices {
                let address = Self.address(index)
                addressIndex[address] = index
                let state = Membership.State(
                    me: Wire.NodeID(UInt64(index + 1)), address: address, seed: seeds.next(),
                    configuration: configuration.membership)
                nodes.append(Node(index: index, hardware: hardware[index], membership: state))
            }
            for index in nodes.indices {
                let load = nodes[index].load
                perform(.localLoadChanged(load), on: index)
                nodes[index].publications.append((nodes[index].membership.incarnation, now))
                perform(.join(seeds: index == 0 ? [] : [Self.address(0)]), on: index)
            }
        }

        func run(progress: (Sample) -> Void) -> Report {
            start()
            let end = Membership.Instant.zero + configuration.warmUp + configuration.duration
            while now < end {
                advance(progress: progress)
            }
            return report()
        }

        func perform(_ event: Membership.Event, on index: Int) {
            let actions = nodes[index].membership.handle(event, now: now)
            guard !actions.isEmpty else { return }
            let from = nodes[index].id
            let source = nodes[index].membership.address
            let bucket = (stepIndex + latencySteps) % buckets.count
            for action in actions {
                guard case .send(let message, let to, _) = action else { continue }
                datagrams += 1
                if configuration.lossRate > 0, uniform() < configuration.lossRate { continue }
                guard let target = addressIndex[to] else { continue }
                buckets[bucket].append(Packet(to: target, from: from, source: source, message: message))
            }
        }

        func uniform() -> Double {
            Double(random.next() >> 11) / Double(1 << 53)
        }

        /// One step of the clock.
        func advance(progress: (Sample) -> Void) {
            now = now + configuration.step
            stepIndex += 1
            let due = buckets[stepIndex % buckets.count]
            buckets[stepIndex % buckets.count] = []
            for packet in due {
                perform(.received(packet.message, from: packet.from, address: packet.source), on: packet.to)
            }
            for index in nodes.indices where nodes[index].membership.nextDeadline.map({ $0 <= now }) ?? true {
                perform(.tick, on: index)
            }
            let interval = Balancer.seconds(configuration.step)
            for index in nodes.indices where !nodes[index].jobs.isEmpty {
                let done = Processor.run(
                    &nodes[index].jobs, jobs: &jobs, hardware: hardware[index], interval: interval, now: now,
                    referenceMHz: configuration.settings.referenceMHz)
                for job in done { nodes[index].jobMemoryKiB -= jobs[job].memoryKiB }
            }
            finishMigrations()
            while nextArrival < arrivals.count && arrivals[nextArrival].at <= now {
                let arrival = arrivals[nextArrival]
                let node = configuration.placement ? place(arrival) : arrival.node
                jobs.append(Job(index: jobs.count, remaining: arrival.work, memoryKiB: arrival.memoryKiB, arrival: arrival.at, node: node))
                nodes[node].jobs.append(jobs.count - 1)
                nodes[node].jobMemoryKiB += arrival.memoryKiB
                nextArrival += 1
            }
            // Each agent samples once a second, at its own phase.
            let phase = stepIndex % stepsPerSecond
            var index = phase
            while index < nodes.count {
                agentSecond(index)
                index += stepsPerSecond
            }
            if now >= nextSample {
                let sample = takeSample()
                samples.append(sample)
                progress(sample)
                nextSample = nextSample + configuration.sampleInterval
            }
        }

        /// What an agent does every second: sample and publish its load, then ask the balancer.
        func agentSecond(_ index: Int) {
            let runnable = Double(nodes[index].jobs.count)
            nodes[index].smoothedLoad = nodes[index].smoothedLoad * decay + runnable * (1 - decay)
            let load = nodes[index].load
            if Node.worthPublishing(load, over: nodes[index].membership.load) {
                perform(.localLoadChanged(load), on: index)
                nodes[index].publications.append((nodes[index].membership.incarnation, now))
            }
            guard configuration.balancing, !nodes[index].jobs.isEmpty, !nodes[index].migrating else { return }
            let elapsed = now - .zero
            let peers = peerView(index, at: elapsed)
            let local = nodes[index].jobs.map { job in
                Balancer.Job(
                    id: jobs[job].id, demand: 1, memoryKiB: jobs[job].memoryKiB, runTime: now - jobs[job].arrival,
                    lastMigration: jobs[job].lastArrival.map { now - $0 })
            }
            guard let decision = Balancer.decide(
                local: nodes[index].balancerNode, jobs: local, peers: peers, migrationInProgress: false,
                settings: configuration.settings),
                let position = local.firstIndex(where: { $0.id == decision.job })
            else { return }
            let gossiped = nodes[index].membership.members[Wire.NodeID(decision.target)]?.load.runningJobs ?? 0
            nodes[index].arrivals.record(
                target: decision.target, gossipedJobs: Int(gossiped), memoryKiB: local[position].memoryKiB, at: elapsed)
            startMigration(of: nodes[index].jobs[position], from: index, to: Int(decision.target) - 1, reason: decision.reason)
        }

        /// The node a job typed on `arrival.node` starts on (`Balancer.place`, as `cluster run`
        /// places it): that node's view of its live peers, with its ledger of jobs sent there
        /// that gossip does not show yet. The start is counted in the ledger like a move; it
        /// takes no time (a start is a request, not a copy of memory).
        func place(_ arrival: Arrival) -> Int {
            let index = arrival.node
            let elapsed = now - .zero
            guard let placement = Balancer.place(
                memoryKiB: arrival.memoryKiB, local: nodes[index].balancerNode, peers: peerView(index, at: elapsed),
                settings: configuration.settings), placement.node != nodes[index].id.rawValue,
                  hardware.indices.contains(Int(placement.node) - 1)
            else { return index }
            let gossiped = nodes[index].membership.members[Wire.NodeID(placement.node)]?.load.runningJobs ?? 0
            nodes[index].arrivals.record(target: placement.node, gossipedJobs: Int(gossiped), memoryKiB: arrival.memoryKiB, at: elapsed)
            placements += 1
            return Int(placement.node) - 1
        }

        /// Node `index`'s view of its live peers, adjusted by its ledger.
        func peerView(_ index: Int, at elapsed: Duration) -> [Balancer.Node] {
            var peers: [Balancer.Node] = []
            peers.reserveCapacity(nodes[index].membership.members.count)
            for member in nodes[index].membership.members.values where member.status == .alive {
                let peer = Int(member.id.rawValue) - 1
                guard hardware.indices.contains(peer) else { continue }
                let load = member.load
                peers.append(Balancer.Node(
                    id: member.id.rawValue, cpus: Int(load.cpus), cpuMHz: Int(load.cpuMHz),
                    load: Double(load.loadMilli) / 1000, runningJobs: Int(load.runningJobs),
                    memoryTotalKiB: hardware[peer].memoryTotalKiB, memoryFreeKiB: load.freeMemoryKiB,
                    acceptsJobs: hardware[peer].acceptsJobs, informationAge: now - member.since))
            }
            return nodes[index].arrivals.adjust(peers, at: elapsed)
        }

        func startMigration(of job: Int, from source: Int, to target: Int, reason: Balancer.Decision.Reason) {
            let memory = jobs[job].memoryKiB
            nodes[source].jobs.removeAll { $0 == job }
            nodes[source].jobMemoryKiB -= memory
            nodes[source].outgoingMemoryKiB += memory
            nodes[source].migrating = true
            nodes[target].incoming += 1
            nodes[target].incomingMemoryKiB += memory
            jobs[job].node = target
            jobs[job].moves += 1
            migrationCount += 1
            if reason == .memory { memoryMigrations += 1 }
            let seconds = Double(memory) * 1024 / max(configuration.transferRate, 1)
            migrations.append(Migration(job: job, source: source, target: target, ends: now + .seconds(seconds)))
        }

        func finishMigrations() {
            guard migrations.contains(where: { $0.ends <= now }) else { return }
            for migration in migrations where migration.ends <= now {
                let memory = jobs[migration.job].memoryKiB
                nodes[migration.source].migrating = false
                nodes[migration.source].outgoingMemoryKiB -= memory
                nodes[migration.target].incoming -= 1
                nodes[migration.target].incomingMemoryKiB -= memory
                nodes[migration.target].jobs.append(migration.job)
                nodes[migration.target].jobMemoryKiB += memory
                jobs[migration.job].lastArrival = now
            }
            migrations.removeAll { $0.ends <= now }
        }
    }
}
