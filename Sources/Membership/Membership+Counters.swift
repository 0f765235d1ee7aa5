extension Membership {
    /// What the state machine dropped from hostile or broken peers; the agent shows these in
    /// `cluster status`.
    public struct Counters: Hashable, Sendable {
        /// Member updates outside ``Membership/Incarnation``'s bounds.
        public var incarnationOutOfBounds: UInt64 = 0
        /// Requests (ping, ping-req, refutation, join) not answered because the sender's
        /// authenticated address is unknown: replies never go to a datagram's UDP source.
        public var unknownReplyAddress: UInt64 = 0
        /// Joins whose update is about another node than the join's sender.
        public var mismatchedJoin: UInt64 = 0

        /// No drops yet.
        public init() {}

        /// The counters by name, for `cluster status`.
        public var byName: [String: UInt64] {
            [
                "incarnationOutOfBounds": incarnationOutOfBounds,
                "unknownReplyAddress": unknownReplyAddress,
                "mismatchedJoin": mismatchedJoin,
            ]
        }
    }
}
