extension Qemu {
    /// The virtio-serial port the QEMU guest agent (qemu-ga) listens on inside the guest, and the
    /// host Unix socket it is connected to.
    ///
    /// QEMU listens on the socket (`server=on,wait=off`); only processes that can open the socket
    /// file reach the agent. The guest gets no network listener for it.
    public enum GuestAgentChannel {
        /// The port name qemu-ga and its udev rule look for.
        public static let portName = "org.qemu.guest_agent.0"

        static func arguments(socket: String) -> [String] {
            [
                "-device", "virtio-serial-pci,id=virtio-serial0",
                "-chardev", "socket,id=qga,path=\(Machine.escape(socket)),server=on,wait=off",
                "-device", "virtserialport,bus=virtio-serial0.0,chardev=qga,name=\(portName)",
            ]
        }
    }
}
