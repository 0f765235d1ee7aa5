extension Profile {
    /// Kernel settings shared by every boot entry.
    public struct Kernel: Sendable, Equatable {
        /// Arguments put before each boot entry's own arguments, one argument per element.
        public var cmdline: [String]

        /// Kernel settings with the given shared arguments.
        public init(cmdline: [String] = []) {
            self.cmdline = cmdline
        }
    }
}
