extension NodeConfig {
    /// The profile's `cluster` section, as the image carries it in /etc/livebuild/profile.json.
    /// Every key is optional; unknown keys are the build side's business (it validates them).
    public struct ClusterSection: Sendable, Equatable, Codable {
        /// The keys on the wire (the JSON Schema and the build's checks list exactly these).
        public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
            case name, role, key, port, multicast, multicastGroup, peers, sshAuthorizedKeys, labels, nodes, timing, head, shared, trust, admission
        }

        public var name: String?
        public var role: Role?
        public var peers: [String]?
        public var sshAuthorizedKeys: [String]?
        public var labels: [String: String]?
        public var nodes: [NodeRule]?
        /// The cluster key file on the build host (the build side reads it; the image carries
        /// the key itself in /etc/livebuild/cluster.key).
        public var key: String?
        /// The agents' UDP port (default 7946).
        public var port: Int?
        /// Whether agents discover each other by multicast (default true); static `peers` work
        /// either way.
        public var multicast: Bool?
        /// The multicast discovery group (default 239.255.76.66).
        public var multicastGroup: String?
        /// Membership protocol timing; defaults in Docs/membership.md.
        public var timing: Timing?
        /// What the head serves besides PXE files (Docs/pxe.md).
        public var head: Head?
        /// The directory the head exports over NFS and every other node mounts.
        public var shared: Shared?
        /// What requests from other nodes may do (Docs/security.md).
        public var trust: Trust?
        /// Who the head admits without a person (Docs/security.md, "Admission").
        public var admission: AdmissionPolicy?

        public init(name: String? = nil, role: Role? = nil, peers: [String]? = nil, sshAuthorizedKeys: [String]? = nil,
                    labels: [String: String]? = nil, nodes: [NodeRule]? = nil, key: String? = nil, port: Int? = nil,
                    multicast: Bool? = nil, multicastGroup: String? = nil, timing: Timing? = nil, head: Head? = nil,
                    shared: Shared? = nil) {
            self.name = name
            self.role = role
            self.peers = peers
            self.sshAuthorizedKeys = sshAuthorizedKeys
            self.labels = labels
            self.nodes = nodes
            self.key = key
            self.port = port
            self.multicast = multicast
            self.multicastGroup = multicastGroup
            self.timing = timing
            self.head = head
            self.shared = shared
        }
    }

    /// What a node lets other nodes do: `minimumPeerUID` (default 1000) is the lowest uid a
    /// forwarded request or a migrated job may run as; 0 allows root.
    public struct Trust: Sendable, Equatable, Codable {
        /// The keys on the wire (the JSON Schema and the build's checks list exactly these).
        public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
            case minimumPeerUID
        }

        public var minimumPeerUID: Int?

        public init(minimumPeerUID: Int? = nil) {
            self.minimumPeerUID = minimumPeerUID
        }
    }

    /// `policy`: `manual` (default), `listed` (the `macs` here join at once) or `open`.
    public struct AdmissionPolicy: Sendable, Equatable, Codable {
        /// The keys on the wire (the JSON Schema and the build's checks list exactly these).
        public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
            case policy, macs
        }

        public var policy: String?
        public var macs: [String]?

        public init(policy: String? = nil, macs: [String]? = nil) {
            self.policy = policy
            self.macs = macs
        }
    }

    /// The head's DHCP: proxy DHCP beside the LAN's own server unless `dhcpRange` makes it the
    /// DHCP server of an isolated cluster LAN.
    public struct Head: Sendable, Equatable, Codable {
        /// The keys on the wire (the JSON Schema and the build's checks list exactly these).
        public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
            case dhcpRange
        }

        /// `FIRST,LAST` or `FIRST,LAST,NETMASK` (default netmask 255.255.255.0).
        public var dhcpRange: String?

        public init(dhcpRange: String? = nil) {
            self.dhcpRange = dhcpRange
        }
    }

    /// Shared storage: the head exports `path` (default /home) over NFS; every other node
    /// mounts it from `server`, by default the head it booted from over the network.
    public struct Shared: Sendable, Equatable, Codable {
        /// The keys on the wire (the JSON Schema and the build's checks list exactly these).
        public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
            case enabled, path, server
        }

        public var enabled: Bool?
        public var path: String?
        public var server: String?

        public init(enabled: Bool? = nil, path: String? = nil, server: String? = nil) {
            self.enabled = enabled
            self.path = path
            self.server = server
        }
    }

    /// The membership protocol's timing, every field optional (absent means the default).
    public struct Timing: Sendable, Equatable, Codable {
        /// The keys on the wire (the JSON Schema and the build's checks list exactly these).
        public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
            case protocolPeriodMs, probeTimeoutMs, indirectProbes, suspicionTimeoutMs, gossipFanout, retransmitMultiplier
        }

        public var protocolPeriodMs: Int?
        public var probeTimeoutMs: Int?
        public var indirectProbes: Int?
        public var suspicionTimeoutMs: Int?
        public var gossipFanout: Int?
        public var retransmitMultiplier: Int?

        public init(protocolPeriodMs: Int? = nil, probeTimeoutMs: Int? = nil, indirectProbes: Int? = nil,
                    suspicionTimeoutMs: Int? = nil, gossipFanout: Int? = nil, retransmitMultiplier: Int? = nil) {
            self.protocolPeriodMs = protocolPeriodMs
            self.probeTimeoutMs = probeTimeoutMs
            self.indirectProbes = indirectProbes
            self.suspicionTimeoutMs = suspicionTimeoutMs
            self.gossipFanout = gossipFanout
            self.retransmitMultiplier = retransmitMultiplier
        }
    }

    /// One per-node rule: which machine (`match`) and what it gets.
    public struct NodeRule: Sendable, Equatable, Codable {
        /// The keys on the wire (the JSON Schema and the build's checks list exactly these).
        public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
            case match, hostname, role, address, gateway, labels
        }

        public struct Match: Sendable, Equatable, Codable {
            public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
                case mac, serial
            }

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
