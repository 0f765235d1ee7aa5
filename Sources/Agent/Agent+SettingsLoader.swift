#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Admission
import ClusterControl
import ClusterWire
import Jobs
import Membership
import NodeConfig

extension Agent {
    /// Resolves ``Settings`` from the image's profile, the machine's facts, the cluster key and
    /// the agent's command-line overrides (used by tests and by hand), in that precedence.
    public enum SettingsLoader {
        /// Command-line overrides; nil leaves the setting to the profile, rules and kernel.
        public struct Overrides: Sendable {
            public var nodeID: UInt64?
            public var hostname: String?
            /// Bind here instead of `0.0.0.0:PORT`; also advertised unless `advertise` is set.
            public var listen: Wire.Address?
            public var advertise: String?
            public var peers: [String]?
            public var multicast: Bool?
            public var controlSocket: String?
            public var controlGroup: String?
            /// ``Settings/sharedDirectory``.
            public var sharedDirectory: String?

            public init(nodeID: UInt64? = nil, hostname: String? = nil, listen: Wire.Address? = nil, advertise: String? = nil,
                        peers: [String]? = nil, multicast: Bool? = nil, controlSocket: String? = nil, controlGroup: String? = nil,
                        sharedDirectory: String? = nil) {
                self.sharedDirectory = sharedDirectory
                self.nodeID = nodeID
                self.hostname = hostname
                self.listen = listen
                self.advertise = advertise
                self.peers = peers
                self.multicast = multicast
                self.controlSocket = controlSocket
                self.controlGroup = controlGroup
            }
        }

        /// The `cluster` section of a profile JSON document (absent section: all defaults).
        public static func clusterSection(profileJSON: [UInt8], path: String) throws(Failure) -> NodeConfig.ClusterSection {
            struct Document: Decodable { var cluster: NodeConfig.ClusterSection? }
            do {
                return try JSONDecoder().decode(Document.self, from: Data(profileJSON)).cluster ?? NodeConfig.ClusterSection()
            } catch let error as DecodingError {
                throw Failure("\(path): the cluster section cannot be read: \(describe(error))")
            } catch {
                throw Failure("\(path): the cluster section cannot be read: \(error)")
            }
        }

        /// Resolves the settings. `node` is the configuration NodeConfig resolved for this
        /// machine (hostname, role, peers, ...).
        public static func settings(
            section: NodeConfig.ClusterSection, node: NodeConfig.Resolved, clusterKey: [UInt8], overrides: Overrides
        ) throws(Failure) -> Settings {
            var report: [Control.Setting] = []
            func record(_ name: String, _ value: String, _ source: String) {
                report.append(Control.Setting(name: name, value: value, source: source))
            }

            let nodeID = overrides.nodeID ?? node.nodeID
            if overrides.nodeID != nil {
                record("node-id", Wire.NodeID(nodeID).description, "command line")
            } else {
                record("node-id", Wire.NodeID(nodeID).description, identityDescription(node.identity))
            }
            let hostname = overrides.hostname ?? node.hostname.value
            record("hostname", hostname, overrides.hostname != nil ? "command line" : node.hostname.source.description)
            record("cluster", node.clusterName.value, node.clusterName.source.description)
            record("role", node.role.value.rawValue, node.role.source.description)
            record("address", node.address.value ?? "dhcp", node.address.source.description)
            if let gateway = node.gateway.value { record("gateway", gateway, node.gateway.source.description) }
            if let problem = Wire.NodeLoad.Labels.problem(node.labels.value) {
                throw Failure("cluster.labels (\(node.labels.source.description)): \(problem)")
            }
            if !node.labels.value.isEmpty {
                let labels = node.labels.value.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                record("labels", labels, node.labels.source.description)
            }
            record("ssh-authorized-keys", String(node.sshAuthorizedKeys.value.count), node.sshAuthorizedKeys.source.description)

            let port: UInt16
            if let listen = overrides.listen {
                port = listen.port
                record("port", String(port), "command line")
            } else if let configured = section.port {
                guard let value = UInt16(exactly: configured), value > 0 else {
                    throw Failure("profile cluster.port \(configured): expected a UDP port from 1 to 65535")
                }
                port = value
                record("port", String(port), "profile")
            } else {
                port = Agent.defaultPort
                record("port", String(port), "default")
            }

            var peers: [Wire.Address] = []
            let peerTexts = overrides.peers ?? node.peers.value
            for text in peerTexts {
                peers.append(try PeerAddress.parse(text, defaultPort: port))
            }
            record("peers", peerTexts.isEmpty ? "none" : peerTexts.joined(separator: ","),
                   overrides.peers != nil ? "command line" : node.peers.source.description)

            let multicastGroup: String?
            let multicastOn = overrides.multicast ?? section.multicast ?? true
            if multicastOn {
                multicastGroup = section.multicastGroup ?? Agent.defaultMulticastGroup
                record("multicast", multicastGroup ?? "", section.multicastGroup != nil ? "profile" : "default")
            } else {
                multicastGroup = nil
                record("multicast", "off", overrides.multicast != nil ? "command line" : "profile")
            }
            if !multicastOn && peers.isEmpty {
                throw Failure("multicast discovery is off and no peers are configured: this node could never find the cluster; set cluster.peers in the profile or cluster.peers= on the kernel command line")
            }

            let membership = try membershipConfiguration(section.timing)
            record("protocol-period", "\(milliseconds(membership.protocolPeriod))ms", section.timing?.protocolPeriodMs != nil ? "profile" : "default")
            record("probe-timeout", "\(milliseconds(membership.probeTimeout))ms", section.timing?.probeTimeoutMs != nil ? "profile" : "default")
            record("suspicion-timeout", "\(milliseconds(membership.suspicionTimeout))ms", section.timing?.suspicionTimeoutMs != nil ? "profile" : "default")

            var trust = Jobs.Trust()
            if let minimum = section.trust?.minimumPeerUID {
                guard let value = UInt32(exactly: minimum), value < UInt32.max else {
                    throw Failure("profile cluster.trust.minimumPeerUID \(minimum): expected 0 to 4294967294")
                }
                trust.minimumPeerUID = value
            }
            record("minimum-peer-uid", String(trust.minimumPeerUID), section.trust?.minimumPeerUID != nil ? "profile" : "default")

            let controlSocket = overrides.controlSocket ?? Control.defaultSocketPath
            var settings = Settings(
                nodeID: Wire.NodeID(nodeID), hostname: hostname, clusterName: node.clusterName.value, role: node.role.value,
                listenHost: overrides.listen?.host ?? "0.0.0.0", port: port,
                advertiseHost: overrides.advertise ?? overrides.listen?.host,
                interfaceMAC: primaryMAC(node), peers: peers, multicastGroup: multicastGroup,
                clusterKey: clusterKey, controlSocket: controlSocket,
                controlGroup: overrides.controlGroup ?? Control.groupName,
                membership: membership, report: report)
            settings.trust = trust
            settings.labels = node.labels.value
            if let named = overrides.sharedDirectory {
                // `/tmp//x/` is `/tmp/x`: job directories come from getcwd, which has no doubled slash.
                let shared = named.hasPrefix("/") ? "/" + named.split(separator: "/").joined(separator: "/") : named
                guard SharedStorage.isPlainAbsolute(shared) else {
                    throw Failure("--shared-directory \(named): expected an absolute path with no . or .. component")
                }
                settings.sharedDirectory = shared
                settings.report.append(Control.Setting(name: "shared-directory", value: shared, source: "command line"))
            }
            switch section.admission?.policy ?? "manual" {
            case "open": settings.admission = .open
            case "listed": settings.admission = .listed(Set((section.admission?.macs ?? []).map(NodeConfig.Rules.normalizedMAC)))
            case "manual": settings.admission = .manual
            case let other: throw Failure("profile cluster.admission.policy \"\(other)\": expected manual, listed or open")
            }
            settings.report.append(Control.Setting(
                name: "admission", value: settings.admission.name, source: section.admission?.policy != nil ? "profile" : "default"))
            return settings
        }

        /// The membership configuration with the profile's timing applied and checked.
        public static func membershipConfiguration(_ timing: NodeConfig.Timing?) throws(Failure) -> Membership.Configuration {
            var configuration = Membership.Configuration()
            guard let timing else { return configuration }
            if let problem = NodeConfig.Rules.timingProblem(timing) {
                throw Failure("profile cluster.timing.\(problem.key.rawValue): \(problem.message)")
            }
            if let value = timing.protocolPeriodMs { configuration.protocolPeriod = .milliseconds(value) }
            if let value = timing.probeTimeoutMs { configuration.probeTimeout = .milliseconds(value) }
            if let value = timing.indirectProbes { configuration.indirectProbes = value }
            if let value = timing.suspicionTimeoutMs { configuration.suspicionTimeout = .milliseconds(value) }
            if let value = timing.gossipFanout { configuration.gossipFanout = value }
            if let value = timing.retransmitMultiplier { configuration.retransmitMultiplier = value }
            return configuration
        }

        static func primaryMAC(_ node: NodeConfig.Resolved) -> String? {
            if case .mac(_, let mac) = node.identity { return mac }
            return nil
        }

        static func identityDescription(_ identity: NodeConfig.IdentitySource) -> String {
            switch identity {
            case .mac(let interface, let mac): "MAC \(mac) of \(interface)"
            case .productUUID(let uuid): "DMI product UUID \(uuid)"
            case .serial(let serial): "DMI serial \(serial)"
            case .machineID(let id): "machine id \(id) (changes every boot)"
            }
        }

        static func milliseconds(_ duration: Duration) -> Int64 {
            duration.nanoseconds / 1_000_000
        }

        static func describe(_ error: DecodingError) -> String {
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context),
                 .keyNotFound(_, let context), .dataCorrupted(let context):
                let path = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? "." + key.stringValue }.joined()
                return "at \(path.isEmpty ? "the top level" : path): \(context.debugDescription)"
            @unknown default:
                return "\(error)"
            }
        }
    }
}
