extension VirtualCluster {
    /// Progress of `up` and `down`, for the caller to show as it likes.
    public enum Event: Sendable {
        /// The namespace, bridge and taps exist.
        case networkReady(namespace: String)
        /// dnsmasq serves DHCP on the bridge.
        case dhcpStarted(pid: Int32)
        /// QEMU of `node` runs (daemonized).
        case nodeStarted(Node)
        /// The guest agent of `node` answered `guest-ping`, `after` the first QEMU started.
        case nodeReady(name: String, after: Duration)
        /// `up` killed and restarted a network-boot node whose firmware gave up (`reason`, the
        /// console line); the failed attempt's console log is kept as `consoleLog`.
        case powerCycled(name: String, reason: String, consoleLog: String)
        /// Something failed: everything started so far is being removed.
        case tearingDown(reason: String)
        /// `down` stopped `pid` (`program` is QEMU or dnsmasq).
        case stopped(pid: Int32, program: String)
        /// `down` removed the namespace.
        case namespaceRemoved(String)
    }
}
