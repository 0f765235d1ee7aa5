extension Profile {
    /// One boot menu entry.
    public struct BootEntry: Sendable, Equatable {
        /// The text shown in the menu.
        public var label: String
        /// Arguments appended to ``Kernel/cmdline`` for this entry.
        public var cmdline: [String]

        /// An entry showing `label` that adds `cmdline` to the shared kernel arguments.
        public init(label: String, cmdline: [String] = []) {
            self.label = label
            self.cmdline = cmdline
        }
    }
}
