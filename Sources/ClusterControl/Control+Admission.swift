extension Control {
    /// One node that asked the head to join (`cluster pending`).
    public struct Admission: Codable, Sendable, Equatable {
        /// What an administrator compares with the node's console.
        public var fingerprint: String
        public var node: String
        public var hostname: String
        public var macs: [String]
        public var serial: String?
        /// The address it asked from.
        public var address: String
        /// Where the head's decision stands.
        public var state: State
        /// Who decided (`root`, `policy open`, `policy listed`), when decided.
        public var decidedBy: String?
        public var firstSeenSecondsAgo: Double
        public var lastSeenSecondsAgo: Double

        public init(
            fingerprint: String, node: String, hostname: String, macs: [String], serial: String?, address: String,
            state: State, decidedBy: String?, firstSeenSecondsAgo: Double, lastSeenSecondsAgo: Double
        ) {
            self.fingerprint = fingerprint
            self.node = node
            self.hostname = hostname
            self.macs = macs
            self.serial = serial
            self.address = address
            self.state = state
            self.decidedBy = decidedBy
            self.firstSeenSecondsAgo = firstSeenSecondsAgo
            self.lastSeenSecondsAgo = lastSeenSecondsAgo
        }

        /// Where a node's request to join stands (its name on the wire).
        public enum State: String, Codable, Sendable, CaseIterable {
            case waiting, admitted, denied
        }
    }
}
