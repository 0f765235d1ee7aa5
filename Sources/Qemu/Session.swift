extension Qemu {
    /// Host-side files and console wiring for one run of a machine.
    public struct Session: Sendable, Hashable {
        /// File receiving everything the guest writes to its first serial port.
        public var consoleLog: String
        /// Also connect the serial console (multiplexed with the QEMU monitor, Ctrl-A c) to the
        /// terminal: interactive `livebuild run`.
        public var consoleOnTerminal: Bool
        /// Unix socket path for QMP (`-qmp unix:PATH,server=on,wait=off`); nil for none.
        public var qmpSocket: String?
        /// Writable private copy of the OVMF variable store. When nil, the template is used with
        /// `snapshot=on`, so the guest's writes are discarded and the template stays untouched.
        public var uefiVars: String?
        /// A Unix socket on which the serial console also accepts input (non-interactive VMs).
        /// The log gets everything the guest prints whether or not anyone is connected.
        public var consoleSocket: String?
        /// Unix socket connected to the guest agent's virtio-serial port; see `GuestAgentChannel`.
        public var guestAgentSocket: String?
        /// Run QEMU in the background (`-daemonize`), writing its process id to this file, so the
        /// VM outlives the process that started it.
        public var daemonPidFile: String?

        public init(consoleLog: String, consoleOnTerminal: Bool = false, qmpSocket: String? = nil, uefiVars: String? = nil,
                    consoleSocket: String? = nil, guestAgentSocket: String? = nil, daemonPidFile: String? = nil) {
            self.guestAgentSocket = guestAgentSocket
            self.daemonPidFile = daemonPidFile
            self.consoleLog = consoleLog
            self.consoleOnTerminal = consoleOnTerminal
            self.qmpSocket = qmpSocket
            self.uefiVars = uefiVars
            self.consoleSocket = consoleSocket
        }
    }
}
