/// A virtual cluster on one machine: N QEMU nodes booted from live ISOs on a private L2 network
/// inside a network namespace, driven through the guest agent (Docs/virtual-cluster.md).
///
/// The work is split in a pure plan (`Plan`: names, MACs, QEMU and dnsmasq command lines, the
/// state file) and a thin layer that carries it out (`up`, `down`, `Controller`). Everything the
/// cluster creates lives in its run directory and its network namespace; host interfaces are
/// never touched.
public enum VirtualCluster {
    /// Largest number of nodes in one cluster (MACs, tap names and DHCP range are sized for it).
    public static let maximumNodes = 64
}
