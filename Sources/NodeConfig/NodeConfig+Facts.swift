extension NodeConfig {
    /// What the agent reads off the machine it runs on.
    public struct Facts: Sendable, Equatable {
        public struct Interface: Sendable, Equatable {
            public var name: String
            /// The permanent MAC address, lowercase with `:`.
            public var mac: String
            /// A physical device (has /sys/class/net/NAME/device), not a bridge, tap or veth.
            public var physical: Bool

            public init(name: String, mac: String, physical: Bool) {
                self.name = name
                self.mac = NodeConfig.Rules.normalizedMAC(mac)
                self.physical = physical
            }
        }

        public var interfaces: [Interface]
        public var dmiSerial: String?
        public var productUUID: String?
        /// /proc/cmdline.
        public var kernelCommandLine: String
        /// /etc/machine-id: on a live system systemd makes a new one every boot, so it is only
        /// the last resort for an identity.
        public var machineID: String?
        /// The MAC `clusterd configure` chose at boot (/run/clusterd/primary-mac). It may have
        /// chosen before udev renamed the interfaces (`eth1` → `enp0s3` can change their order
        /// by name), so whoever reads the facts later keeps its choice while that card is there.
        public var chosenMAC: String?

        public init(interfaces: [Interface], dmiSerial: String? = nil, productUUID: String? = nil, kernelCommandLine: String = "",
                    machineID: String? = nil, chosenMAC: String? = nil) {
            self.interfaces = interfaces
            self.dmiSerial = dmiSerial
            self.productUUID = productUUID
            self.kernelCommandLine = kernelCommandLine
            self.machineID = machineID
            self.chosenMAC = chosenMAC.map(NodeConfig.Rules.normalizedMAC)
        }

        /// The primary interface: the one with the MAC chosen at boot while it is there; else
        /// the first physical one with a real MAC, by name (so `eno1` comes before `wlp2s0`),
        /// else the first with a real MAC at all.
        public var primary: Interface? {
            let usable = interfaces.filter { $0.mac != "00:00:00:00:00:00" && !$0.mac.isEmpty && $0.name != "lo" }
                .sorted { $0.name < $1.name }
            if let chosenMAC, let chosen = usable.first(where: { $0.mac == chosenMAC }) { return chosen }
            return usable.first { $0.physical } ?? usable.first
        }

        /// Whether a physical network card is there (a card with a device behind it, not a bridge).
        public var hasPhysicalInterface: Bool { interfaces.contains { $0.physical } }
    }

}
