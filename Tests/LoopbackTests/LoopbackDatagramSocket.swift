import Glibc

/// A UDP socket bound to 127.0.0.1 (an ephemeral port) for tests that talk to agents directly:
/// sends to 127.0.0.1 ports only, and receives with a timeout.
final class LoopbackDatagramSocket {
    let fd: Int32

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(what: "socket", errno: errno) }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw SocketError(what: "bind", errno: errno) }
    }

    deinit {
        close(fd)
    }

    struct SocketError: Error, CustomStringConvertible {
        var what: String
        var errno: Int32
        var description: String { "\(what) failed: errno \(errno)" }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// Sends `bytes` to 127.0.0.1:`port`.
    func send(_ bytes: [UInt8], toPort port: UInt16) throws {
        var address = Self.loopback(port: port)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, target, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard sent == bytes.count else { throw SocketError(what: "sendto", errno: errno) }
    }

    /// Datagrams that arrive within `milliseconds` (each wait restarts the timeout; at most 100).
    func receive(waitingMilliseconds milliseconds: Int) -> [[UInt8]] {
        var timeout = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while received.count < 100 {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received.append(Array(buffer.prefix(count)))
        }
        return received
    }
}
