extension Profile {
    /// The boot menu.
    public struct Boot: Sendable, Equatable {
        /// Seconds the menu waits before starting the first entry; 0 boots at once.
        public var timeout: Int
        /// Menu entries; the first is the default. Never empty.
        public var entries: [BootEntry]
        /// A serial console for the menu and the kernel, if any.
        public var serial: Serial?

        /// A menu; the defaults are the ones a profile gets without a `boot` key.
        public init(timeout: Int = 5, entries: [BootEntry] = [BootEntry(label: "Live")], serial: Serial? = nil) {
            self.timeout = timeout
            self.entries = entries
            self.serial = serial
        }
    }
}
