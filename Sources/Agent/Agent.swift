import NodeConfig

/// clusterd, the node agent: reads the node's configuration, applies it (host name, network,
/// SSH keys), and runs the membership protocol over an encrypted UDP socket, with a control
/// socket for the `cluster` command.
///
/// The protocol logic lives in the Membership and ClusterWire modules as pure values; this module
/// is the I/O around them: sockets (SwiftNIO), clocks, /proc and /sys, and the service lifecycle.
/// It runs inside the image, so it uses FoundationEssentials-level API only.
public enum Agent {
    /// The agent's version, gossiped to peers and shown by `cluster nodes`.
    public static let version = "0.3.0"
    /// The UDP port agents use unless the profile says otherwise (memberlist's, so firewalls
    /// written for Serf/Consul LANs already allow it).
    public static let defaultPort = UInt16(NodeConfig.Rules.defaultPort)
    /// The discovery group: organisation-local scope (239.255.0.0/16, RFC 2365), so routers at
    /// the site edge do not forward it.
    public static let defaultMulticastGroup = NodeConfig.Rules.defaultMulticastGroup
}
