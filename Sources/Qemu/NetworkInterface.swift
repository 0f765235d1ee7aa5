extension Qemu {
    /// A network card of the machine and the host side it is plugged into.
    public struct NetworkInterface: Sendable, Hashable {
        /// Where the card's frames go on the host.
        public enum Backend: Sendable, Hashable {
            /// An existing tap device, opened by name in QEMU's network namespace
            /// (`-netdev tap,ifname=NAME,script=no,downscript=no`): QEMU neither creates nor
            /// configures it, so nothing on the host changes.
            case tap(String)
        }

        /// QEMU id of the netdev; the device is `<id>-nic`.
        public var id: String
        public var backend: Backend
        /// The card's MAC address (`52:54:00:...` is QEMU's locally administered range).
        public var mac: String

        public init(id: String = "net0", backend: Backend, mac: String) {
            self.id = id
            self.backend = backend
            self.mac = mac
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
            }
            return ["-netdev", netdev, "-device", "virtio-net-pci,id=\(id)-nic,netdev=\(id),mac=\(mac)"]
        }
    }
}
