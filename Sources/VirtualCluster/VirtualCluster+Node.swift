extension VirtualCluster {
    /// One node as planned and, once started, as recorded in the state file.
    public struct Node: Sendable, Hashable, Codable {
        /// 1-based position in the cluster.
        public var index: Int
        /// `node1`, `node2`, ...: also the node's SMBIOS serial number.
        public var name: String
        /// `52:54:00:4c:42:NN` with NN the index in hex.
        public var mac: String
        /// The tap device inside the namespace (`tap1`, ...).
        public var tap: String
        /// The ISO it boots (absolute path).
        public var image: String
        /// Everything the guest writes on its first serial port.
        public var consoleLog: String
        /// Host end of the guest agent's virtio-serial port.
        public var agentSocket: String
        /// QEMU writes its process id here (`-pidfile`).
        public var pidFile: String
        /// The node's private copy of the UEFI variable store (UEFI only).
        public var uefiVars: String?
        /// QEMU's process id once started.
        public var pid: Int32?
        /// True when it boots from its network card, with no medium (`image` is empty).
        public var networkBoot: Bool?

        public init(index: Int, name: String, mac: String, tap: String, image: String, consoleLog: String,
                    agentSocket: String, pidFile: String, uefiVars: String? = nil, pid: Int32? = nil) {
            self.index = index
            self.name = name
            self.mac = mac
            self.tap = tap
            self.image = image
            self.consoleLog = consoleLog
            self.agentSocket = agentSocket
            self.pidFile = pidFile
            self.uefiVars = uefiVars
            self.pid = pid
        }
    }

    /// A node's host name, as the node configuration derives it from its MAC.
    public static func hostname(mac: String) -> String {
        "node-" + mac.split(separator: ":").suffix(3).joined()
    }
}
