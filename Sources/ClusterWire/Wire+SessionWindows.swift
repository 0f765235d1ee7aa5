extension Wire {
    /// The replay windows an ``Wire/Opener`` keeps: one ``Wire/ReplayWindow`` per
    /// (sender, session), with memory bounded whatever arrives.
    ///
    /// - At most ``sessionsPerSender`` sessions per sender; a new one evicts the sender's least
    ///   recently accepted session. A sender restarts (new session) rarely, and a refutation
    ///   renews it at most every few seconds, so four cover datagrams still in flight from the
    ///   previous sessions.
    /// - At most ``maxSenders`` senders; past that the least recently heard quarter is forgotten
    ///   in one sweep (amortised O(log n) per new sender). Only datagrams that authenticated
    ///   create entries, so only a cluster-key holder can make many, and then only to forget
    ///   windows: a forgotten (sender, session) would accept its old datagrams once more, but
    ///   membership ignores stale updates, and replies go to authenticated member addresses.
    public struct SessionWindows: Sendable {
        /// Sessions remembered per sender.
        public static let sessionsPerSender = 4
        /// Senders remembered; far above any cluster this agent runs (simulated up to 1,000).
        public static let maxSenders = 4096

        struct Session: Sendable {
            var window = ReplayWindow()
            var lastAccepted: UInt64 = 0
        }

        struct Sender: Sendable {
            var sessions: [UInt64: Session] = [:]
            var lastHeard: UInt64 = 0
        }

        private var senders: [NodeID: Sender] = [:]
        /// A logical clock: one tick per accepted datagram, orders "least recently".
        private var clock: UInt64 = 0

        /// No windows yet.
        public init() {}

        /// Senders with at least one window.
        public var senderCount: Int { senders.count }
        /// Windows over all senders.
        public var sessionCount: Int { senders.values.reduce(0) { $0 + $1.sessions.count } }

        /// The window of `sender`'s `session`, if one is kept.
        public func window(sender: NodeID, session: UInt64) -> ReplayWindow? {
            senders[sender]?.sessions[session]?.window
        }

        /// Classifies `sequence` without changing anything (an unknown session gets an empty
        /// window's verdict).
        public func verdict(sender: NodeID, session: UInt64, sequence: UInt64) -> ReplayWindow.Verdict {
            (window(sender: sender, session: session) ?? ReplayWindow()).verdict(for: sequence)
        }

        /// Records `sequence` as accepted (call only after the datagram authenticated); returns
        /// the verdict it had.
        @discardableResult
        public mutating func accept(sender senderID: NodeID, session sessionID: UInt64, sequence: UInt64) -> ReplayWindow.Verdict {
            clock &+= 1
            var sender = senders[senderID] ?? Sender()
            var session = sender.sessions[sessionID] ?? Session()
            let verdict = session.window.accept(sequence)
            guard verdict == .fresh else { return verdict }
            session.lastAccepted = clock
            sender.sessions[sessionID] = session
            sender.lastHeard = clock
            if sender.sessions.count > Self.sessionsPerSender,
               let oldest = sender.sessions.min(by: { $0.value.lastAccepted < $1.value.lastAccepted })?.key {
                sender.sessions[oldest] = nil
            }
            senders[senderID] = sender
            if senders.count > Self.maxSenders {
                let keep = Self.maxSenders * 3 / 4
                let byAge = senders.sorted { $0.value.lastHeard < $1.value.lastHeard }
                for (old, _) in byAge.prefix(senders.count - keep) {
                    senders[old] = nil
                }
            }
            return .fresh
        }
    }
}
