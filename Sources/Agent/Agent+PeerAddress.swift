import ClusterWire

extension Agent {
    /// Peer addresses as written in profiles and on the kernel command line: `10.0.0.5`,
    /// `10.0.0.5:7946`, `fd00::5` or `[fd00::5]:7946`.
    public enum PeerAddress {
        public static func parse(_ text: String, defaultPort: UInt16) throws(Failure) -> Wire.Address {
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]") else {
                    throw Failure("peer '\(text)': missing ']' after the IPv6 address")
                }
                let host = String(text[text.index(after: text.startIndex)..<close])
                let rest = text[text.index(after: close)...]
                if rest.isEmpty { return Wire.Address(host: host, port: defaultPort) }
                guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()), port > 0 else {
                    throw Failure("peer '\(text)': expected [IPv6]:PORT")
                }
                return Wire.Address(host: host, port: port)
            }
            let colons = text.filter { $0 == ":" }.count
            if colons == 1, let colon = text.firstIndex(of: ":") {
                guard let port = UInt16(text[text.index(after: colon)...]), port > 0 else {
                    throw Failure("peer '\(text)': the port must be a number from 1 to 65535")
                }
                let host = String(text[..<colon])
                guard !host.isEmpty else { throw Failure("peer '\(text)': missing the host") }
                return Wire.Address(host: host, port: port)
            }
            guard !text.isEmpty else { throw Failure("empty peer address") }
            return Wire.Address(host: text, port: defaultPort)
        }
    }
}
