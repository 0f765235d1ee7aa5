import Admission
import Glibc
import ClusterWire
import Jobs
import Logging
import Membership
import NIOCore
import NIOPosix
import Processes
import ServiceLifecycle

extension Agent {
    /// The running agent as a swift-service-lifecycle service: waits for an address, binds the
    /// UDP socket (joining the multicast group), opens the control socket, then runs the
    /// receive loop, the protocol timer and the load sampler until graceful shutdown.
    public struct Service: ServiceLifecycle.Service {
        public let settings: Settings
        public let logger: Logger
        /// How often the load is sampled.
        public var sampleInterval: Duration = .seconds(1)
        /// Where jobs keep their directories.
        public var jobsDirectory = Jobs.Layout.defaultRoot

        public init(settings: Settings, logger: Logger) {
            self.settings = settings
            self.logger = logger
        }

        public func run() async throws {
            let clock = ContinuousClock()
            let origin = clock.now
            @Sendable func now() -> Membership.Instant {
                Membership.Instant(nanoseconds: (clock.now - origin).nanoseconds)
            }

            let slot = CoreSlot()
            let jobs = Jobs.Supervisor(
                layout: Jobs.Layout(root: jobsDirectory), nodeID: settings.nodeID.rawValue, hostname: settings.hostname, logger: logger)
            do {
                try await jobs.load()
            } catch {
                throw Failure(error.description)
            }
            // Every child of the agent (jobs' `unshare`, criu, trees criu restored) is reaped by
            // one thread from now on; the agent is a subreaper, so trees criu restored are its
            // children.
            Processes.Reaper.shared.collectEveryChild()
            let balancing = Balancing(logger: logger)
            let control = try await ControlServer.bind(path: settings.controlSocket, group: settings.controlGroup, logger: logger)
            // The head admits nodes that boot without the key (Docs/security.md, "Admission").
            let desk = settings.role == .head
                ? AdmissionDesk(policy: settings.admission, clusterKey: settings.clusterKey, clusterName: settings.clusterName, logger: logger)
                : nil
            try await withThrowingDiscardingTaskGroup { group in
                // The jobs' ends, from the reaper; until the agent stops (its jobs run on).
                group.addTask { await jobs.watchEnds() }
                group.addTask {
                    do {
                        try await control.serve(core: slot, jobs: jobs, balancing: balancing, desk: desk, now: now)
                    } catch is CancellationError {
                        // Shutting down.
                    }
                }
                defer { group.cancelAll() }
                // A SIGTERM while waiting for DHCP ends the wait (and the agent) at once.
                guard let (host, device) = try? await cancelWhenGracefulShutdown({ try await advertisedHost(slot: slot) }) else {
                    return
                }
                let address = Wire.Address(host: host, port: settings.port)
                let sampler = LoadSampler(hostname: settings.hostname, labels: settings.labels)
                var random = SystemRandomNumberGenerator()
                let core = try Core(
                    settings: settings, address: address, load: sampler.sample(startsJobs: await balancing.enabled), now: now(),
                    seed: random.next(), logger: logger)
                let udp = try await bindDatagramSocket(device: device)
                let peers: PeerServer
                let admission: AdmissionServer?
                do {
                    peers = try await PeerServer.bind(host: settings.listenHost, port: settings.port, logger: logger)
                    admission = desk == nil ? nil : try await AdmissionServer.bind(
                        host: settings.listenHost, port: settings.port &+ Admission.portOffset, logger: logger)
                } catch {
                    // A TCP port taken: say so and stop. The UDP channel is closed first: NIO
                    // traps on a channel's writer dropped unfinished (an agent died of it when a
                    // loopback test's port was taken between the check and the bind).
                    try? await udp.executeThenClose { _, _ in }
                    throw error
                }
                group.addTask {
                    do {
                        try await peers.serve(core: core, jobs: jobs)
                    } catch is CancellationError {
                        // Shutting down.
                    }
                }
                if let desk, let admission {
                    group.addTask {
                        do {
                            try await admission.serve(desk: desk, core: core)
                        } catch is CancellationError {
                            // Shutting down.
                        }
                    }
                }
                await slot.set(core)
                logger.info("clusterd \(Agent.version) node \(settings.nodeID) (\(settings.hostname)) listening on \(address), cluster '\(settings.clusterName)'")
                try await run(udp: udp, core: core, sampler: sampler, jobs: jobs, balancing: balancing, now: now)
            }
            logger.info("clusterd stopped")
        }

        /// The protocol's loops until graceful shutdown: receive, timer, load sampler.
        func run(
            udp: NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>, core: Core,
            sampler: LoadSampler, jobs: Jobs.Supervisor, balancing: Balancing, now: @escaping @Sendable () -> Membership.Instant
        ) async throws {
            let seeds = settings.peers
                + (settings.multicastGroup.map { [Wire.Address(host: $0, port: settings.port)] } ?? [])
            let sender = DatagramSender(channel: udp.channel, core: core, logger: logger)
            let interval = settings.membership.tickInterval
            let period = settings.membership.protocolPeriod
            let sampleInterval = sampleInterval
            try await udp.executeThenClose { inbound, _ in
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask {
                        await sender.send(await core.join(seeds: seeds, now: now()))
                        for try await envelope in inbound.cancelOnGracefulShutdown() {
                            guard let source = Self.wireAddress(envelope.remoteAddress) else { continue }
                            let bytes = Array(envelope.data.readableBytesView)
                            await sender.send(await core.receive(bytes, from: source, now: now()))
                        }
                    }
                    group.addTask {
                        // Sleep until the state machine's next deadline (at least the tick
                        // resolution, at most one period), not a fixed 10 ms.
                        while !Task.isCancelled && !Task.isShuttingDownGracefully {
                            let (outgoing, next) = await core.tick(now: now())
                            await sender.send(outgoing)
                            let wait = next.map { $0 - now() } ?? interval
                            try? await Task.sleep(for: min(max(wait, interval), period))
                        }
                    }
                    group.addTask {
                        // Whether CRIU works here decides whether this node takes jobs.
                        let criuWorks = await CRIUCheck.shared.works(logger: logger)
                        // The balancer's moves run here, beside the sampling; a move under way
                        // at shutdown is finished first (stopping in the frozen phase would
                        // leave the job stopped).
                        await withDiscardingTaskGroup { moves in
                            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                                try? await Task.sleep(for: sampleInterval)
                                let running = UInt32(await jobs.runningCount())
                                let load = sampler.sample(
                                    runningJobs: running, acceptsJobs: await balancing.acceptsJobs(criuWorks: criuWorks),
                                    startsJobs: await balancing.enabled)
                                await sender.send(await core.sampled(load, now: now()))
                                if let move = await balancing.step(load: load, me: settings.nodeID, core: core, jobs: jobs) {
                                    moves.addTask { await balancing.move(move, core: core, jobs: jobs) }
                                }
                            }
                        }
                    }
                    try? await gracefulShutdown()
                    group.cancelAll()
                }
            }
        }

        /// The host to advertise, and the device multicast runs on. Waits (logging once) until
        /// the primary interface has an IPv4 address, as it does not while DHCP is running.
        func advertisedHost(slot: CoreSlot) async throws -> (String, NIONetworkDevice?) {
            if let fixed = settings.advertiseHost {
                let device = try? System.enumerateDevices().first { $0.address?.ipAddress == fixed }
                return (fixed, device)
            }
            var warned = false
            while true {
                let devices = (try? System.enumerateDevices()) ?? []
                // The interface's current name: udev may have renamed it since the agent started.
                let name = settings.interfaceMAC.flatMap { mac in HostFacts.read().interfaces.first { $0.mac == mac }?.name }
                let candidates = devices.filter { device in
                    guard case .v4 = device.address, device.name != "lo" else { return false }
                    return settings.interfaceMAC == nil || device.name == name
                }
                if let device = candidates.first, let ip = device.address?.ipAddress {
                    return (ip, device)
                }
                if !warned {
                    let what = "waiting for an IPv4 address on \(settings.interfaceMAC.map { "the interface with MAC \($0)" } ?? "any interface")"
                    logger.info("\(what)")
                    await slot.waiting(for: what)
                    warned = true
                }
                try await Task.sleep(for: .milliseconds(200))
                try Task.checkCancellation()
            }
        }

        func bindDatagramSocket(device: NIONetworkDevice?) async throws -> NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>> {
            let channel: NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
            do {
                channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: settings.listenHost, port: Int(settings.port)) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                                wrappingChannelSynchronously: channel)
                        }
                    }
            } catch {
                throw Failure("cannot bind UDP \(settings.listenHost):\(settings.port): \(error); is another clusterd running?")
            }
            if let group = settings.multicastGroup {
                do {
                    let groupAddress = try SocketAddress(ipAddress: group, port: Int(settings.port))
                    guard let multicast = channel.channel as? MulticastChannel else {
                        throw Failure("the UDP channel does not support multicast")
                    }
                    try await multicast.joinGroup(groupAddress, device: device).get()
                    if let provider = channel.channel as? SocketOptionProvider, case .v4(let v4)? = device?.address {
                        try await provider.setIPMulticastIF(v4.address.sin_addr).get()
                    }
                } catch {
                    // Closed before it is dropped: NIO traps on an unfinished channel writer.
                    try? await channel.executeThenClose { _, _ in }
                    throw Failure("cannot join multicast group \(group) on \(device?.name ?? "the default interface"): \(error); set \"multicast\": false and list cluster.peers if this network has no multicast")
                }
            }
            return channel
        }

        static func wireAddress(_ address: SocketAddress) -> Wire.Address? {
            guard let ip = address.ipAddress, let port = address.port, let port16 = UInt16(exactly: port) else { return nil }
            return Wire.Address(host: ip, port: port16)
        }

    }
}
