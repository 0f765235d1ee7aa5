import Foundation

extension Qemu {
    /// A connected Unix stream socket with deadline-bound reads. Owns its descriptor: `close()`
    /// or `deinit` closes it.
    final class UnixSocket {
        private var fd: Int32
        let path: String

        /// Connects to `path` once (no retry).
        init(connectingTo path: String) throws(Qemu.Error) {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .guestAgent(socket: path, message: "socket(): \(Self.lastError)") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                close()
                throw .guestAgent(socket: path, message: "socket path longer than \(MemoryLayout.size(ofValue: address.sun_path) - 1) bytes")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard status == 0 else {
                let message = Self.lastError
                close()
                throw .guestAgent(socket: path, message: "connect: \(message)")
            }
        }

        deinit { close() }

        func close() {
            if fd >= 0 { Foundation.close(fd) }
            fd = -1
        }

        /// Writes all of `bytes`.
        func send(_ bytes: [UInt8]) throws(Qemu.Error) {
            var offset = 0
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw .guestAgent(socket: path, message: "send: \(Self.lastError)") }
                offset += count
            }
        }

        /// Waits until bytes arrive or `deadline` passes; returns them, or nil at the deadline.
        /// Throws when the peer closes the connection.
        func receive(deadline: ContinuousClock.Instant) throws(Qemu.Error) -> [UInt8]? {
            while true {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { return nil }
                let (seconds, attoseconds) = remaining.components
                let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, milliseconds)
                if ready < 0 && errno == EINTR { continue }
                guard ready > 0 else { continue }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    throw .guestAgent(socket: path, message: count == 0 ? "QEMU closed the connection" : "recv: \(Self.lastError)")
                }
                return Array(chunk[..<count])
            }
        }

        private static var lastError: String { String(cString: strerror(errno)) }
    }
}
