extension Qemu {
    /// A network card of the machine and the host side it is plugged into.
    public struct NetworkInterface: Sendable, Hashable {
        /// Where the card's frames go on the host.
        public enum Backend: Sendable, Hashable {
            /// An existing tap device, opened by name in QEMU's network namespace
            /// (`-netdev tap,ifname=NAME,script=no,downscript=no`): QEMU neither creates nor
            /// configures it, so nothing on the host changes.
            case tap(String)
            /// QEMU's user-mode network (slirp): a private 10.0.2.0/24 with a DHCP server, and a
            /// TFTP server on 10.0.2.2 serving `tftpRoot` with `bootFile` as the DHCP boot file.
            /// The guest reaches the host only through 10.0.2.2, which slirp maps to the
            /// host's loopback: nothing leaves the machine.
            case user(tftpRoot: String, bootFile: String)
        }

        /// QEMU id of the netdev; the device is `<id>-nic`.
        public var id: String
        public var backend: Backend
        /// The card's MAC address (`52:54:00:...` is QEMU's locally administered range).
        public var mac: String
        /// Boot from this card (PXE) with this boot index; nil: not a boot device.
        public var bootIndex: Int?

        public init(id: String = "net0", backend: Backend, mac: String, bootIndex: Int? = nil) {
            self.id = id
            self.backend = backend
            self.mac = mac
            self.bootIndex = bootIndex
        }

        /// A virtio-net card on the tap device `name`.
        public static func tap(_ name: String, mac: String, id: String = "net0") -> NetworkInterface {
            NetworkInterface(id: id, backend: .tap(name), mac: mac)
        }

        func arguments() -> [String] {
            let netdev: String
            switch backend {
            case .tap(let name):
                netdev = "tap,id=\(id),ifname=\(Machine.escape(name)),script=no,downscript=no"
            case .user(let root, let bootFile):
                netdev = "user,id=\(id),tftp=\(Machine.escape(root)),bootfile=\(Machine.escape(bootFile))"
            }
            let boot = bootIndex.map { ",bootindex=\($0)" } ?? ""
            return ["-netdev", netdev, "-device", "virtio-net-pci,id=\(id)-nic,netdev=\(id),mac=\(mac)\(boot)"]
        }
    }
}
