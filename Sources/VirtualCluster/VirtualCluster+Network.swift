extension VirtualCluster {
    /// The private L2 network inside the namespace: one bridge, a tap per node, and dnsmasq as
    /// DHCP server on the bridge. Fixed addresses are fine: each cluster has its own namespace.
    public struct Network: Sendable, Hashable, Codable {
        /// The bridge inside the namespace.
        public var bridge = "br0"
        /// The bridge's own address (dnsmasq answers from it).
        public var bridgeAddress = "10.77.0.1"
        public var prefixLength = 24
        public var netmask = "255.255.255.0"
        /// The addresses dnsmasq hands out.
        public var dhcpFirst = "10.77.0.10"
        public var dhcpLast = "10.77.0.200"

        public init() {}

        /// The `ip` commands that build the network, in order: the namespace, its loopback, the
        /// bridge (multicast snooping off, so multicast discovery reaches every port), and one
        /// tap per node enslaved to it. Every command after the first runs inside the namespace
        /// (`ip -n NS`), so nothing is created on the host.
        public func setupCommands(namespace: String, taps: [String]) -> [[String]] {
            var commands: [[String]] = [
                ["ip", "netns", "add", namespace],
                ["ip", "-n", namespace, "link", "set", "lo", "up"],
                ["ip", "-n", namespace, "link", "add", bridge, "type", "bridge", "mcast_snooping", "0"],
                ["ip", "-n", namespace, "addr", "add", "\(bridgeAddress)/\(prefixLength)", "dev", bridge],
                ["ip", "-n", namespace, "link", "set", bridge, "up"],
            ]
            for tap in taps {
                commands += [
                    ["ip", "-n", namespace, "tuntap", "add", "dev", tap, "mode", "tap"],
                    ["ip", "-n", namespace, "link", "set", tap, "master", bridge],
                    ["ip", "-n", namespace, "link", "set", tap, "up"],
                ]
            }
            return commands
        }

        /// dnsmasq as a DHCP server only, inside the namespace: no DNS (`--port=0`), no host
        /// configuration read (`--conf-file=/dev/null`, no hosts, no resolv.conf), bound to the
        /// bridge alone, no router option (the namespace leads nowhere), and its pid, lease and
        /// log files in the run directory.
        public func dnsmasqCommand(namespace: String, pidFile: String, leaseFile: String, logFile: String) -> [String] {
            [
                "ip", "netns", "exec", namespace, "dnsmasq",
                "--conf-file=/dev/null", "--no-hosts", "--no-resolv",
                "--port=0",
                "--bind-interfaces", "--interface=\(bridge)", "--except-interface=lo",
                "--dhcp-range=\(dhcpFirst),\(dhcpLast),\(netmask),12h",
                "--dhcp-option=option:router",
                "--dhcp-authoritative",
                "--dhcp-leasefile=\(leaseFile)",
                "--pid-file=\(pidFile)",
                "--log-facility=\(logFile)", "--log-dhcp",
            ]
        }
    }
}
