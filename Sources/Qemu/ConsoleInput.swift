import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension Qemu {
    /// The connection to a VM's serial console input socket. Owns one socket descriptor,
    /// opened on first use and closed by `close()` (the VM calls it when it goes away).
    /// While connected, QEMU sends the console's output to the socket as well; a thread reads
    /// and drops it (the log file has it), or the guest's serial port would stall once the
    /// socket buffer is full.
    final class ConsoleInput: Sendable {
        private let descriptor = Mutex<Int32>(-1)

        /// Writes `bytes` to the console, connecting to `path` first if needed.
        func write(_ bytes: [UInt8], path: String) throws(Qemu.Error) {
            try descriptor.withLock { (fd: inout Int32) throws(Qemu.Error) in
                if fd < 0 {
                    fd = try Self.connect(path)
                    Self.drain(fd)
                }
                var offset = 0
                while offset < bytes.count {
                    let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if written < 0 {
                        if errno == EINTR { continue }
                        let message = String(cString: strerror(errno))
                        Glibc.shutdown(fd, Int32(SHUT_RDWR))
                        fd = -1
                        throw .console("writing to \(path): \(message)")
                    }
                    offset += written
                }
            }
        }

        func close() {
            descriptor.withLock { fd in
                if fd >= 0 {
                    // Wakes the draining thread, which closes the descriptor on its way out.
                    Glibc.shutdown(fd, Int32(SHUT_RDWR))
                }
                fd = -1
            }
        }

        /// Reads and drops whatever QEMU sends until the connection ends, then closes `fd`.
        private static func drain(_ fd: Int32) {
            let thread = Thread {
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: 65536, alignment: 16)
                defer { buffer.deallocate() }
                while true {
                    let n = Glibc.recv(fd, buffer, 65536, 0)
                    if n > 0 || (n < 0 && errno == EINTR) { continue }
                    break
                }
                Glibc.close(fd)
            }
            thread.name = "qemu-console-drain"
            thread.start()
        }

        private static func connect(_ path: String) throws(Qemu.Error) -> Int32 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .console("socket(): \(String(cString: strerror(errno)))") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                Glibc.close(fd)
                throw .console("socket path too long: \(path)")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard status == 0 else {
                let message = String(cString: strerror(errno))
                Glibc.close(fd)
                throw .console("connecting to \(path): \(message)")
            }
            return fd
        }
    }
}
