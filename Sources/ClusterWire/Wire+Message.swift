extension Wire {
    /// Every message agents exchange. All but `join` piggyback member updates, so dissemination
    /// rides on the failure detector's traffic.
    public enum Message: Hashable, Sendable {
        /// A direct probe; the receiver answers with ``ack(probe:updates:)`` carrying the same `probe`.
        case ping(probe: UInt32, updates: [MemberUpdate])
        /// Asks the receiver to probe `target` at `address` and relay the ack (indirect probe).
        case pingReq(probe: UInt32, target: NodeID, address: Address, updates: [MemberUpdate])
        /// Answers a ping (or relays an answer to a ping-req).
        case ack(probe: UInt32, updates: [MemberUpdate])
        /// Pure dissemination: member updates with no probe attached.
        case gossip(updates: [MemberUpdate])
        /// A node announcing itself to a seed or the discovery broadcast; answered with the
        /// receiver's full view as `gossip`.
        case join(MemberUpdate)

        /// The type byte that follows the version byte on the wire.
        public enum Kind: UInt8, Sendable, CaseIterable {
            case ping = 1, pingReq = 2, ack = 3, gossip = 4, join = 5
        }

        /// This message's type byte.
        public var kind: Kind {
            switch self {
            case .ping: .ping
            case .pingReq: .pingReq
            case .ack: .ack
            case .gossip: .gossip
            case .join: .join
            }
        }

        /// The member updates the message carries.
        public var updates: [MemberUpdate] {
            switch self {
            case .ping(_, let updates), .pingReq(_, _, _, let updates), .ack(_, let updates),
                 .gossip(let updates):
                updates
            case .join(let update):
                [update]
            }
        }
    }
}
