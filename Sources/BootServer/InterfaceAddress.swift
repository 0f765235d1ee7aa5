import Glibc

/// An interface's IPv4 address and network, for the boot server to listen on and to tell
/// dnsmasq which network it proxies.
public struct InterfaceAddress: Sendable, Hashable {
    public var interface: String
    /// Dotted quad.
    public var address: String
    /// The network address (address AND netmask), dotted.
    public var network: String
    /// The netmask's length in bits (24 for 255.255.255.0).
    public var prefixLength: Int = 24

    /// The first IPv4 address of interface `name`, or of the first interface other than
    /// loopback that has one when `name` is nil.
    public static func find(_ name: String? = nil) -> InterfaceAddress? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            let interface = String(cString: entry.pointee.ifa_name)
            guard name == nil ? interface != "lo" : interface == name,
                  let raw = entry.pointee.ifa_addr, raw.pointee.sa_family == sa_family_t(AF_INET),
                  let maskRaw = entry.pointee.ifa_netmask else { continue }
            let address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
            let mask = maskRaw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
            return InterfaceAddress(interface: interface, address: dotted(address), network: dotted(address & mask),
                                    prefixLength: UInt32(bigEndian: mask).nonzeroBitCount)
        }
        return nil
    }

    /// An address in network byte order, dotted.
    static func dotted(_ networkOrder: in_addr_t) -> String {
        let value = UInt32(bigEndian: networkOrder)
        return [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }
}
