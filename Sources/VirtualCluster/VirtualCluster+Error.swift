extension VirtualCluster {
    /// The one error type at the boundary of the virtual cluster: a category, one sentence for
    /// the user (what is wrong, where, what to do), and the underlying error if there is one.
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public enum Code: String, Sendable {
            /// Not running as root.
            case permission
            /// A request that cannot work (node count, paths, an unknown node).
            case configuration
            /// A host tool (ip, dnsmasq, qemu-system-x86_64) is missing or failed.
            case tool
            /// A node did not come up before the deadline, or QEMU exited.
            case boot
            /// No cluster runs from this run directory, or its state file is unreadable.
            case state
            /// Running a command through the guest agent failed.
            case exec
        }

        public var code: Code
        public var message: String
        public var underlying: String?

        public init(_ code: Code, _ message: String, underlying: (any Swift.Error)? = nil) {
            self.code = code
            self.message = message
            self.underlying = underlying.map { String(describing: $0) }
        }

        public var description: String {
            guard let underlying, !message.contains(underlying) else { return message }
            return "\(message) (\(underlying))"
        }
    }
}
