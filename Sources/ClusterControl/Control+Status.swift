extension Control {
    /// This node as `cluster status` shows it.
    public struct Status: Codable, Sendable, Equatable {
        public var id: String
        public var hostname: String
        public var clusterName: String
        /// `host:port` this node advertises; nil while it waits for an address.
        public var address: String?
        /// Fingerprint of the cluster key (never the key).
        public var keyFingerprint: String
        public var agentVersion: String
        /// Seconds since the agent started.
        public var agentUptimeSeconds: Double
        /// Every setting with its value and where it came from.
        public var settings: [Setting]
        /// Datagram counters.
        public var counters: Counters
        /// Members by state, this node excluded.
        public var members: [String: Int]

        public init(
            id: String, hostname: String, clusterName: String, address: String?, keyFingerprint: String,
            agentVersion: String, agentUptimeSeconds: Double, settings: [Setting], counters: Counters,
            members: [String: Int]
        ) {
            self.id = id
            self.hostname = hostname
            self.clusterName = clusterName
            self.address = address
            self.keyFingerprint = keyFingerprint
            self.agentVersion = agentVersion
            self.agentUptimeSeconds = agentUptimeSeconds
            self.settings = settings
            self.counters = counters
            self.members = members
        }
    }

    /// A resolved setting and its source (`default`, `profile`, `profile cluster.nodes[0]`,
    /// `kernel cluster.role=head`, `command line`).
    public struct Setting: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public var source: String

        public init(name: String, value: String, source: String) {
            self.name = name
            self.value = value
            self.source = source
        }
    }

    /// What the agent's socket saw.
    public struct Counters: Codable, Sendable, Equatable {
        /// Datagrams that opened and decoded.
        public var accepted: UInt64
        /// Datagrams sent.
        public var sent: UInt64
        /// Datagrams that could not be sent (no route, buffer full).
        public var sendErrors: UInt64
        /// Dropped datagrams by reason (`authenticationFailed`, `replayed`, ...).
        public var rejected: [String: UInt64]
        /// Agent-to-agent streams (TCP) whose handshake succeeded, both directions.
        public var streamsAccepted: UInt64
        /// Incoming streams refused by reason (`authenticationFailed`: no cluster key;
        /// `notAStream`: something else connected; `badFrame`: tampered after the handshake).
        public var streamsRejected: [String: UInt64]
        /// What membership dropped from authentic datagrams, by reason
        /// (`incarnationOutOfBounds`: an incarnation beyond the bounds; `unknownReplyAddress`: a
        /// request from a sender whose member address is unknown, left unanswered;
        /// `mismatchedJoin`: a join about another node than its sender).
        public var membershipDropped: [String: UInt64]
        /// Wire sessions this agent started after refuting a claim about itself.
        public var sessionsStarted: UInt64

        public init(
            accepted: UInt64 = 0, sent: UInt64 = 0, sendErrors: UInt64 = 0, rejected: [String: UInt64] = [:],
            streamsAccepted: UInt64 = 0, streamsRejected: [String: UInt64] = [:],
            membershipDropped: [String: UInt64] = [:], sessionsStarted: UInt64 = 0
        ) {
            self.accepted = accepted
            self.sent = sent
            self.sendErrors = sendErrors
            self.rejected = rejected
            self.streamsAccepted = streamsAccepted
            self.streamsRejected = streamsRejected
            self.membershipDropped = membershipDropped
            self.sessionsStarted = sessionsStarted
        }

        /// All rejected datagrams.
        public var rejectedTotal: UInt64 { rejected.values.reduce(0, +) }
    }
}
