extension Wire {
    /// Where a node's agent listens: a host (an IP literal as text) and a UDP port.
    ///
    /// Kept as text so the wire format does not care whether the cluster runs on IPv4 or IPv6;
    /// the socket layer parses it.
    public struct Address: Hashable, Sendable, CustomStringConvertible {
        /// The IP address, e.g. `10.0.0.7` or `fd00::7`.
        public var host: String
        /// The UDP port.
        public var port: UInt16

        /// Creates an address from a host literal and a port.
        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }

        /// `host:port`, or `[host]:port` for IPv6 literals.
        public var description: String {
            host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}
