import ClusterWire

extension Membership {
    /// One node's membership view and protocol state; a value driven by ``handle(_:now:)``.
    public struct State: Sendable {
        /// The timing parameters.
        public let configuration: Configuration
        /// This node.
        public let me: Wire.NodeID
        /// Where this node listens.
        public internal(set) var address: Wire.Address
        /// This node's incarnation: raised to refute suspicion and to publish a new load.
        public internal(set) var incarnation: UInt64
        /// This node's load as last published.
        public internal(set) var load: Wire.NodeLoad
        /// Every other node this node knows of, dead ones until ``Configuration/deadRetention``.
        public internal(set) var members: [Wire.NodeID: Member] = [:]
        /// When the first datagram arrived (``Membership/Incarnation/selfCatchUp``).
        var firstReceived: Membership.Instant?
        /// What was dropped from hostile or broken peers.
        public internal(set) var counters = Counters()

        var random: RandomSource
        var seeds: [Wire.Address] = []
        var lastJoinSent: Instant?
        var lastReconnect: Instant?
        var periodStart: Instant?
        var probe: Probe?
        var probeOrder: [Wire.NodeID] = []
        var nextProbeNumber: UInt32 = 1
        var relays: [UInt32: Relay] = [:]
        var suspicionStarted: [Wire.NodeID: Instant] = [:]
        var broadcasts: [Wire.NodeID: Broadcast] = [:]

        /// Creates a node that knows only itself.
        ///
        /// - Parameters:
        ///   - incarnation: where to start; a restarted node may start at 0 and will raise it past
        ///     whatever the cluster remembers when it hears that it is suspect or dead. Kept
        ///     below ``Membership/Incarnation/ceiling``.
        ///   - seed: seeds the node's random choices (probe order, gossip targets).
        public init(
            me: Wire.NodeID, address: Wire.Address, load: Wire.NodeLoad = Wire.NodeLoad(),
            incarnation: UInt64 = 0, seed: UInt64, configuration: Configuration = Configuration()
        ) {
            self.configuration = configuration
            self.me = me
            self.address = address
            self.load = load
            self.incarnation = min(incarnation, Incarnation.ceiling - 1)
            self.random = RandomSource(seed: seed)
            queue(selfUpdate, urgent: true)
        }

        /// The update describing this node as it is now.
        public var selfUpdate: Wire.MemberUpdate {
            Wire.MemberUpdate(node: me, incarnation: incarnation, status: .alive, address: address, load: load)
        }

        /// Members sorted by id, for display and deterministic iteration.
        public var view: [Member] {
            members.values.sorted { $0.id < $1.id }
        }

        /// Ids of members not known to be dead.
        public var liveMembers: [Wire.NodeID] {
            members.values.filter { $0.status != .dead }.map(\.id).sorted()
        }

        /// The cluster size used to scale timeouts and retransmissions: this node plus the live
        /// members.
        public var clusterSize: Int {
            members.values.count { $0.status != .dead } + 1
        }

        /// Advances the state machine by one event at `now`.
        public mutating func handle(_ event: Event, now: Instant) -> [Action] {
            switch event {
            case .tick:
                return tick(now: now)
            case .received(let message, let sender, let source):
                // Our own datagrams come back when joining through a broadcast address.
                guard sender != me else { return [] }
                return receive(message, from: sender, source: source, now: now)
            case .localLoadChanged(let newLoad):
                load = newLoad
                incarnation = Incarnation.next(after: incarnation)
                queue(selfUpdate, urgent: false)
                return []
            case .join(let newSeeds):
                seeds = newSeeds.filter { $0 != address }
                return sendJoin(now: now)
            }
        }

        /// The earliest instant at which a ``Event/tick`` has something to do: the next protocol
        /// period, the outstanding probe's timeout, or a suspicion running out; nil when the
        /// state machine has not ticked yet (tick now). Events never create a deadline earlier
        /// than the next period, so an agent may sleep until this instant instead of ticking
        /// every ``Configuration/tickInterval`` (a hundred agents on one machine then wake about
        /// ten times a second each instead of a hundred).
        public var nextDeadline: Instant? {
            guard let periodStart else { return nil }
            var deadline = periodStart + configuration.protocolPeriod
            if let probe, !probe.acked, !probe.indirectSent {
                deadline = min(deadline, probe.sentAt + configuration.probeTimeout)
            }
            if let earliest = suspicionStarted.values.min() {
                deadline = min(deadline, earliest + configuration.suspicionTimeout(memberCount: clusterSize))
            }
            return deadline
        }

        func sendJoinMessages() -> [Action] {
            seeds.map { .send(.join(selfUpdate), to: $0, recipient: .anyRecipient) }
        }

        mutating func sendJoin(now: Instant) -> [Action] {
            lastJoinSent = now
            return sendJoinMessages()
        }
    }
}
