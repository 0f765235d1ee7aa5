extension VirtualCluster {
    /// What one node boots: its own ISO (so one cluster can mix images), or the network.
    public struct NodeSpec: Sendable, Hashable {
        /// The ISO, attached read-only as a CD-ROM (several nodes may share one file); empty for
        /// a network-boot node.
        public var image: String
        /// No medium: the node boots from its network card (QEMU's iPXE ROM), from a head node
        /// of the cluster. ``VirtualCluster/up(_:timeout:logger:beforeNetworkBoot:onEvent:)``
        /// starts such nodes after the others are up.
        public var networkBoot: Bool
        /// UEFI (OVMF) or BIOS for this node; nil: the cluster's firmware.
        public var uefi: Bool?

        public init(image: String) {
            self.image = image
            networkBoot = false
            uefi = nil
        }

        /// A diskless node booting from the network, with UEFI or BIOS firmware (nil: the
        /// cluster's).
        public static func network(uefi: Bool? = nil) -> NodeSpec {
            var spec = NodeSpec(image: "")
            spec.networkBoot = true
            spec.uefi = uefi
            return spec
        }
    }
}
