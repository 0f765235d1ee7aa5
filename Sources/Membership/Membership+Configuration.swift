extension Membership {
    /// Timing and fan-out of the protocol. The defaults target a switched LAN (round trips well
    /// under 1 ms, loss rare) and clusters of a few to a few hundred nodes, with two goals: a join
    /// seen by every node within 2 s and a failed node declared dead everywhere within 3 s.
    ///
    /// Failure detection time is roughly: time until some member probes the failed node (each
    /// period every member probes one target; with round-robin over a shuffled list the failed
    /// node is probed by *someone* within a period or two) + one protocol period (direct plus
    /// indirect probe) + the suspicion timeout + dissemination of the verdict (a few periods; and
    /// every node that heard the suspicion runs its own timer anyway). With the defaults and 20
    /// nodes: ≈ 0.2–0.4 s + 0.2 s + 1.25 s + ≈ 0.2 s ≈ 2 s.
    public struct Configuration: Hashable, Sendable {
        /// How often a node probes one member. 200 ms: five probes a second cost each node about
        /// 5 pings + 5 acks + 15 gossip datagrams per second, which is nothing on a LAN, and keeps
        /// the probe phase a small part of the 3 s detection budget.
        public var protocolPeriod: Duration = .milliseconds(200)
        /// How long to wait for a direct ack before asking others to probe. 100 ms is two orders of
        /// magnitude above a LAN round trip, so a loaded but live node is not mistaken for dead,
        /// and leaves the other half of the period for the indirect probes.
        public var probeTimeout: Duration = .milliseconds(100)
        /// Members asked to probe indirectly (SWIM's k). 3 makes a false suspicion from a single
        /// lost datagram require all three relayed paths to fail too.
        public var indirectProbes: Int = 3
        /// Suspicion timeout for clusters of up to 16 nodes. 1 s is five protocol periods: time for
        /// the suspicion to reach the suspect (piggybacked on probes and gossip) and for its
        /// refutation to travel back, even when a few datagrams are lost.
        public var suspicionTimeout: Duration = .seconds(1)
        /// Members sent a `gossip` datagram each period when updates are pending. Fan-out 3 every
        /// 200 ms spreads an update to n nodes in about log₃(n) periods (≈ 3 periods, 0.6 s, for 20).
        public var gossipFanout: Int = 3
        /// λ in "each update is gossiped λ·log₂(n+1) times": enough that an update reaches every
        /// node with high probability (SWIM's infection-style dissemination), bounded so queues drain.
        public var retransmitMultiplier: Int = 2
        /// Most updates piggybacked on one datagram: 8 updates of ~70–130 bytes keep datagrams
        /// below a 1400-byte MTU.
        public var maxPiggyback: Int = 8
        /// Most bytes of updates piggybacked on one datagram (at least one update always goes):
        /// updates carrying labels (up to 514 bytes more each) would otherwise push 8 of them
        /// past a 1400-byte MTU, into IP fragments.
        public var piggybackBytes: Int = 1200
        /// How often a node that knows no live member re-sends its join to the seeds.
        public var joinRetryInterval: Duration = .seconds(1)
        /// How often a node sends a join to one member it believes dead, so both sides of a healed
        /// partition (or a dead node that came back) find each other again.
        public var reconnectInterval: Duration = .seconds(1)
        /// How long a dead member is remembered: its incarnation must outlive stale `alive`
        /// gossip still in flight, and it is a reconnect target until then.
        public var deadRetention: Duration = .seconds(60)
        /// The state machine's timer resolution: timeouts are checked only on ticks, and the agent
        /// ticks at ``Membership/State/nextDeadline`` but never sooner than this after the last
        /// tick.
        public var tickInterval: Duration = .milliseconds(10)

        /// The defaults above.
        public init() {}

        /// The suspicion timeout for a cluster of `memberCount` nodes: ``suspicionTimeout`` scaled
        /// by log₁₆(n), never below 1×. Larger clusters take longer to spread the suspicion to the
        /// suspect and its refutation back, so they get longer (1.25 s at 20 nodes, 1.75 s at 100).
        public func suspicionTimeout(memberCount: Int) -> Duration {
            let quarters = max(4, Self.log2Ceiling(memberCount))
            return .nanoseconds(suspicionTimeout.nanoseconds / 4 * Int64(quarters))
        }

        /// How many times each update is sent before it is dropped from the gossip queue.
        public func retransmitLimit(memberCount: Int) -> Int {
            max(1, retransmitMultiplier * Self.log2Ceiling(memberCount + 1))
        }

        /// ⌈log₂ n⌉ for n ≥ 1 (0 for n ≤ 1); integer-only, so no libm in the static agent.
        static func log2Ceiling(_ n: Int) -> Int {
            n <= 1 ? 0 : Int.bitWidth - (n - 1).leadingZeroBitCount
        }
    }
}
