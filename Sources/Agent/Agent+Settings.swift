import Admission
import ClusterControl
import ClusterWire
import Jobs
import Membership
import NodeConfig

extension Agent {
    /// Everything the running agent needs, resolved from the image's profile, the machine and
    /// the kernel command line (see ``SettingsLoader``), with where each value came from.
    public struct Settings: Sendable {
        public var nodeID: Wire.NodeID
        public var hostname: String
        public var clusterName: String
        public var role: NodeConfig.Role
        /// Address the UDP socket binds (`0.0.0.0` on a node; a loopback address in tests).
        public var listenHost: String
        public var port: UInt16
        /// The address peers should use; nil means "the primary interface's IPv4 address, once
        /// it has one".
        public var advertiseHost: String?
        /// The MAC of the interface discovery runs on (the primary one, which gave the node id).
        /// A MAC, not a name: udev renames interfaces (eth0 → enp0s3) after the agent starts.
        public var interfaceMAC: String?
        /// Static peers (like openMosix's /etc/openmosix.map), joined in addition to multicast.
        public var peers: [Wire.Address]
        /// The multicast discovery group, or nil when multicast discovery is off.
        public var multicastGroup: String?
        /// The 32-byte cluster key.
        public var clusterKey: [UInt8]
        public var controlSocket: String
        /// Group allowed to use the control socket besides root; nil leaves it root-only.
        public var controlGroup: String?
        public var membership: Membership.Configuration
        /// Every setting and its source, for `cluster status`.
        public var report: [Control.Setting]
        /// What requests from other nodes may do here (`cluster.trust`).
        public var trust = Jobs.Trust()
        /// Who this node, as the head, admits without a person (`cluster.admission`).
        public var admission = Admission.Policy.manual
        /// This node's labels (`cluster.labels`), gossiped so `cluster run --label` can select it.
        public var labels: [String: String] = [:]
        /// A directory this node sees as the same storage as every other node, taken on trust
        /// (`clusterd run --shared-directory`); nil: the shared directory `clusterd configure`
        /// set up, once it is exported or mounted (``SharedStorage``).
        public var sharedDirectory: String?

        public init(
            nodeID: Wire.NodeID, hostname: String, clusterName: String, role: NodeConfig.Role,
            listenHost: String, port: UInt16, advertiseHost: String?, interfaceMAC: String?,
            peers: [Wire.Address], multicastGroup: String?, clusterKey: [UInt8], controlSocket: String,
            controlGroup: String?, membership: Membership.Configuration, report: [Control.Setting]
        ) {
            self.nodeID = nodeID
            self.hostname = hostname
            self.clusterName = clusterName
            self.role = role
            self.listenHost = listenHost
            self.port = port
            self.advertiseHost = advertiseHost
            self.interfaceMAC = interfaceMAC
            self.peers = peers
            self.multicastGroup = multicastGroup
            self.clusterKey = clusterKey
            self.controlSocket = controlSocket
            self.controlGroup = controlGroup
            self.membership = membership
            self.report = report
        }
    }
}
