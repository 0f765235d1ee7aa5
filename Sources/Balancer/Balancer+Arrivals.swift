extension Balancer {
    /// The jobs this node has sent that gossip may not show yet: each move raises the target's
    /// job count by one in this node's eyes until the target's own gossiped count catches up (or
    /// ``hold`` passes), so several decisions in a row do not all pick the same idle peer on its
    /// old count. Without it, a head sending four jobs to two idle peers sent three of them to
    /// one (ClusterTests, session 9: the peer still gossiped its old count seconds after the
    /// move had ended).
    ///
    /// Plain values like the rest of the policy: the caller passes its clock's reading as a
    /// duration since any fixed origin.
    public struct Arrivals: Sendable, Equatable {
        /// Per target: the count it should gossip once it has seen every move recorded here, and
        /// when the expectation lapses.
        struct Expectation: Sendable, Equatable {
            var jobs: Int
            /// Memory of the jobs moved there since the count gossiped last.
            var memoryKiB: UInt64
            var until: Duration
        }

        private var expected: [UInt64: Expectation] = [:]
        /// How long an expectation lasts after the last move to that target without being
        /// confirmed: a target whose job ended meanwhile never reports the count expected, so it
        /// must lapse. 30 s: gossip reaches every node in a few protocol periods, but under TCG
        /// with four one-vCPU guests on two cores, moves 7–20 s apart were all decided on the
        /// target's old count.
        public var hold: Duration

        /// An empty ledger.
        public init(hold: Duration = .seconds(30)) {
            self.hold = hold
        }

        /// Targets with an expectation still open.
        public var targets: [UInt64] { expected.keys.sorted() }

        /// A job of `memoryKiB` moved to `target`, whose count as last gossiped was `gossipedJobs`.
        public mutating func record(target: UInt64, gossipedJobs: Int, memoryKiB: UInt64, at now: Duration) {
            var expectation = Expectation(jobs: gossipedJobs + 1, memoryKiB: memoryKiB, until: now + hold)
            if let open = expected[target], open.until > now, open.jobs > gossipedJobs {
                expectation.jobs = open.jobs + 1
                expectation.memoryKiB += open.memoryKiB
            }
            expected[target] = expectation
        }

        /// The move to `target` recorded last failed: the job stayed here.
        public mutating func withdraw(target: UInt64, memoryKiB: UInt64) {
            guard var expectation = expected[target] else { return }
            expectation.jobs -= 1
            expectation.memoryKiB -= min(expectation.memoryKiB, memoryKiB)
            expected[target] = expectation
        }

        /// Gossip from `target` now counts every job recorded for it (the placing node saw a
        /// publication made after each start): its own count stands, whatever it is. A job that
        /// ended before that publication would otherwise keep the target looking busier than it
        /// is until ``hold`` passes.
        public mutating func confirm(target: UInt64) {
            expected[target] = nil
        }

        /// The peers as the policy should see them: each target's job count raised to what the
        /// moves recorded say it must be at least, and its free memory less what they brought.
        /// Expectations that lapsed, or that the gossiped count has reached, are dropped.
        public mutating func adjust(_ peers: [Node], at now: Duration) -> [Node] {
            expected = expected.filter { $0.value.until > now }
            var peers = peers
            for index in peers.indices {
                let id = peers[index].id
                guard let expectation = expected[id] else { continue }
                guard peers[index].runningJobs < expectation.jobs else {
                    expected[id] = nil
                    continue
                }
                peers[index].runningJobs = expectation.jobs
                peers[index].memoryFreeKiB -= min(peers[index].memoryFreeKiB, expectation.memoryKiB)
            }
            return peers
        }
    }
}
