extension Balancer {
    /// Where a new job starts (MOSIX's assignment): the node where it adds the least to the
    /// cluster's cost, by the same opportunity cost the balancer moves jobs by
    /// (``marginalCostThere(of:on:settings:)``), so placing and balancing never disagree.
    public struct Placement: Hashable, Sendable {
        /// Why the job starts where it does.
        public enum Reason: String, Hashable, Sendable {
            /// The local node costs least, or no less than the cheapest peer.
            case cheapestHere
            /// A peer costs less than the local node.
            case cheaperThere
            /// The local node may not take it (a label it lacks); the cheapest peer that may.
            case onlyThere
        }

        /// The node the job starts on (the local node's id when it stays).
        public var node: UInt64
        public var reason: Reason
        /// The job's marginal cost on the local node; nil when the local node may not take it.
        public var costHere: Double?
        /// Its marginal cost on the chosen node.
        public var cost: Double

        public init(node: UInt64, reason: Reason, costHere: Double?, cost: Double) {
            self.node = node
            self.reason = reason
            self.costHere = costHere
            self.cost = cost
        }
    }

    /// The node a new job of `demand` and `memoryKiB` starts on, or nil if no node may take it.
    ///
    /// - `local` is the node where the job was asked for (nil: it may not run here, e.g. it
    ///   lacks a label the job asks for). Its figures must count the jobs it has started but
    ///   not yet reported, as `peers` must count jobs placed there that gossip does not show
    ///   yet (``Arrivals``): otherwise a burst of starts all picks the one node that looked idle.
    /// - Peers are candidates only if they start placed jobs (``Node/startsJobs``: balancing on
    ///   there; CRIU need not work, the job just stays), their information is fresh, and they
    ///   keep free memory above ``Settings/lowMemoryFraction`` with the job
    ///   (``decide(local:jobs:peers:migrationInProgress:settings:)``'s rules).
    /// - The local node wins ties: a start there costs no network round trip. Among peers of
    ///   equal cost, ``Settings/tieBreak`` orders them. The stability margin does not apply: a
    ///   new job has not started anywhere, so there is nothing to trade back and forth.
    public static func place(
        demand: Double = 1, memoryKiB: UInt64 = 0, local: Node?, peers: [Node], settings: Settings
    ) -> Placement? {
        let job = Job(id: "", demand: demand, memoryKiB: memoryKiB, runTime: .zero)
        let here = local.map { Target($0, settings: settings).marginalCost(of: job, settings: settings) }
        let candidates = peers.filter { peer in
            peer.id != local?.id && peer.startsJobs && peer.cpus > 0 && peer.memoryTotalKiB > 0
                && isFresh(peer, settings: settings)
        }.map { Target($0, settings: settings) }
        let there = cheapest(for: job, among: candidates, from: local?.id ?? 0, settings: settings)
        switch (local, here, there) {
        case (let local?, let here?, let (peer, cost)?):
            return cost < here
                ? Placement(node: peer, reason: .cheaperThere, costHere: here, cost: cost)
                : Placement(node: local.id, reason: .cheapestHere, costHere: here, cost: here)
        case (let local?, let here?, nil):
            return Placement(node: local.id, reason: .cheapestHere, costHere: here, cost: here)
        case (nil, _, let (peer, cost)?):
            return Placement(node: peer, reason: .onlyThere, costHere: nil, cost: cost)
        default:
            return nil
        }
    }
}
