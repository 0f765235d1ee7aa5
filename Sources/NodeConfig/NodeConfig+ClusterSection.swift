extension NodeConfig {
    /// The profile's `cluster` section, as the image carries it in /etc/livebuild/profile.json.
    /// Every key is optional; unknown keys are the build side's business (it validates them).
    public struct ClusterSection: Sendable, Equatable, Codable {
        public var name: String?
        public var role: Role?
        public var peers: [String]?
        public var sshAuthorizedKeys: [String]?
        public var labels: [String: String]?
        public var nodes: [NodeRule]?

        public init(name: String? = nil, role: Role? = nil, peers: [String]? = nil, sshAuthorizedKeys: [String]? = nil,
                    labels: [String: String]? = nil, nodes: [NodeRule]? = nil) {
            self.name = name
            self.role = role
            self.peers = peers
            self.sshAuthorizedKeys = sshAuthorizedKeys
            self.labels = labels
            self.nodes = nodes
        }
    }

    /// One per-node rule: which machine (`match`) and what it gets.
    public struct NodeRule: Sendable, Equatable, Codable {
        public struct Match: Sendable, Equatable, Codable {
            /// A MAC address of any of the machine's interfaces (any case, `:` or `-`).
            public var mac: String?
            /// The DMI system serial number (/sys/class/dmi/id/product_serial).
            public var serial: String?

            public init(mac: String? = nil, serial: String? = nil) {
                self.mac = mac
                self.serial = serial
            }
        }

        public var match: Match
        public var hostname: String?
        public var role: Role?
        /// A static address with prefix length (`10.0.0.5/24`); DHCP when absent.
        public var address: String?
        public var gateway: String?
        public var labels: [String: String]?

        public init(match: Match, hostname: String? = nil, role: Role? = nil, address: String? = nil,
                    gateway: String? = nil, labels: [String: String]? = nil) {
            self.match = match
            self.hostname = hostname
            self.role = role
            self.address = address
            self.gateway = gateway
            self.labels = labels
        }
    }

    /// What a node is for: an ordinary node, or the head that serves PXE and shared storage.
    public enum Role: String, Sendable, Equatable, Codable, CaseIterable {
        case node, head
    }
}
