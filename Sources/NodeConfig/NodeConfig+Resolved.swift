import NodeError
extension NodeConfig {
    /// Where a setting's value came from, lowest precedence first.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case builtIn
        case profile
        case rule(index: Int)
        case kernel(parameter: String)

        public var description: String {
            switch self {
            case .builtIn: "default"
            case .profile: "profile"
            case .rule(let index): "profile cluster.nodes[\(index)]"
            case .kernel(let parameter): "kernel \(parameter)"
            }
        }
    }

    /// A value and where it came from.
    public struct Setting<Value: Sendable & Equatable>: Sendable, Equatable {
        public var value: Value
        public var source: Source

        public init(_ value: Value, _ source: Source) {
            self.value = value
            self.source = source
        }
    }

    /// The node's configuration after precedence.
    public struct Resolved: Sendable, Equatable {
        public var nodeID: UInt64
        public var identity: IdentitySource
        public var clusterName: Setting<String>
        public var role: Setting<Role>
        public var hostname: Setting<String>
        /// Static address with prefix (`10.0.0.5/24`); nil means DHCP.
        public var address: Setting<String?>
        public var gateway: Setting<String?>
        public var peers: Setting<[String]>
        public var labels: Setting<[String: String]>
        public var sshAuthorizedKeys: Setting<[String]>
        /// The head's DHCP range (`FIRST,LAST[,NETMASK]`); nil means proxy DHCP.
        public var dhcpRange: Setting<String?> = Setting(nil, .builtIn)
        /// The shared directory; nil when shared storage is off.
        public var sharedPath: Setting<String?> = Setting("/home", .builtIn)
        /// Where a node other than the head mounts the shared directory from; nil when unknown
        /// (a node booted from its own medium with no `shared.server` or `cluster.shared`):
        /// then it mounts from the member that announces it shares the directory.
        public var sharedServer: Setting<String?> = Setting(nil, .builtIn)

        /// What this node does with the shared directory.
        public var share: Share? {
            guard let path = sharedPath.value else { return nil }
            if role.value == .head { return .export(path: path) }
            return sharedServer.value.map { .mount(server: $0, path: path) } ?? .discover(path: path)
        }
    }

    /// The head exports the shared directory; the others mount it from the head: a server
    /// they know, or the member that announces it exports the directory.
    public enum Share: Sendable, Equatable {
        case export(path: String)
        case mount(server: String, path: String)
        case discover(path: String)
    }

    /// A configuration that cannot be applied, with where the bad value came from.
    /// A setting that cannot be resolved: the node side's one error type (code `input`).
    public typealias Error = NodeError
}
