import Qemu

extension VirtualCluster {
    /// What to start: the run directory, the nodes and the hardware every node gets.
    public struct Configuration: Sendable, Hashable {
        /// Holds the state file, console logs, pid files and guest-agent sockets; also names the
        /// network namespace (`Plan.namespaceName(runDirectory:)`).
        public var runDirectory: String
        public var nodes: [NodeSpec]
        public var memoryMiB: Int
        public var cpus: Int
        public var firmware: Qemu.Firmware
        /// nil: `Qemu.Accelerator.probe()` decides (KVM when it works, TCG otherwise).
        public var accelerator: Qemu.Accelerator?
        /// Time between powering on one network-boot node and the next, as a PDU's sequenced
        /// power-on does. Zero starts them together. Under TCG on a small host, many firmware
        /// DHCP clients starting at once can time out (iPXE: "No configuration methods
        /// succeeded"), and the machine falls through to the firmware's shell.
        public var networkBootInterval: Duration = .zero
        /// How many times `up` power-cycles a network-boot node whose firmware gave up
        /// (OVMF in its shell) before it fails.
        public var maxPowerCycles = 3

        public init(runDirectory: String, nodes: [NodeSpec], memoryMiB: Int = 1024, cpus: Int = 1,
                    firmware: Qemu.Firmware = .bios, accelerator: Qemu.Accelerator? = nil) {
            self.runDirectory = runDirectory
            self.nodes = nodes
            self.memoryMiB = memoryMiB
            self.cpus = cpus
            self.firmware = firmware
            self.accelerator = accelerator
        }

        /// `count` nodes booting the same ISO.
        public init(runDirectory: String, image: String, count: Int, memoryMiB: Int = 1024, cpus: Int = 1,
                    firmware: Qemu.Firmware = .bios, accelerator: Qemu.Accelerator? = nil) {
            self.init(runDirectory: runDirectory, nodes: Array(repeating: NodeSpec(image: image), count: max(0, count)),
                      memoryMiB: memoryMiB, cpus: cpus, firmware: firmware, accelerator: accelerator)
        }
    }
}
