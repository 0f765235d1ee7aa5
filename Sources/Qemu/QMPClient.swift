import Foundation
import Synchronization

extension Qemu {
    /// A QMP connection over a Unix socket: greeting, capabilities negotiation, then one
    /// command at a time. Asynchronous events arriving between replies are skipped.
    ///
    /// Calls block the calling thread for at most their timeout (QMP replies are quick).
    public final class QMPClient: Sendable {
        private struct Connection {
            var fd: Int32 = -1
            var buffer: [UInt8] = []
        }

        public let socketPath: String
        private let connection = Mutex(Connection())

        public init(socketPath: String) {
            self.socketPath = socketPath
        }

        deinit {
            connection.withLock { if $0.fd >= 0 { close($0.fd); $0.fd = -1 } }
        }

        /// Runs `command` with `arguments` and returns its `return` member.
        public func execute(
            _ command: String,
            arguments: [String: JSONValue] = [:],
            timeout: Duration = .seconds(10)
        ) throws(Qemu.Error) -> JSONValue {
            let deadline = ContinuousClock.now + timeout
            return try connection.withLock { (state: inout Connection) throws(Qemu.Error) -> JSONValue in
                if state.fd < 0 { try Self.connect(&state, path: socketPath, deadline: deadline) }
                do throws(Qemu.Error) {
                    return try Self.roundTrip(&state, command: command, arguments: arguments, deadline: deadline)
                } catch {
                    close(state.fd)
                    state = Connection()
                    throw error
                }
            }
        }

        /// Closes the connection; the next command reconnects.
        public func disconnect() {
            connection.withLock { if $0.fd >= 0 { close($0.fd) }; $0 = Connection() }
        }

        // MARK: - Protocol

        private static func connect(_ state: inout Connection, path: String, deadline: ContinuousClock.Instant) throws(Qemu.Error) {
            // QEMU creates the socket shortly after start: retry until the deadline.
            while true {
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                guard fd >= 0 else { throw .qmp(operation: "socket", message: String(cString: strerror(errno))) }
                if connectUnix(fd, path: path) == 0 {
                    state.fd = fd
                    break
                }
                let reason = String(cString: strerror(errno))
                close(fd)
                if ContinuousClock.now >= deadline {
                    throw .qmp(operation: "connect to \(path)", message: reason)
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            do throws(Qemu.Error) {
                let greeting = try readMessage(&state, deadline: deadline)
                guard greeting["QMP"] != nil else {
                    throw .qmp(operation: "greeting", message: "unexpected first message")
                }
                _ = try roundTrip(&state, command: "qmp_capabilities", arguments: [:], deadline: deadline)
            } catch {
                close(state.fd)
                state = Connection()
                throw error
            }
        }

        private static func connectUnix(_ fd: Int32, path: String) -> Int32 {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard bytes.count < capacity else {
                errno = ENAMETOOLONG
                return -1
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }

        private struct Command: Encodable {
            var execute: String
            var arguments: [String: JSONValue]?
        }

        private static func roundTrip(
            _ state: inout Connection, command: String, arguments: [String: JSONValue], deadline: ContinuousClock.Instant
        ) throws(Qemu.Error) -> JSONValue {
            let encoded: Data
            do {
                encoded = try JSONEncoder().encode(Command(execute: command, arguments: arguments.isEmpty ? nil : arguments))
            } catch {
                throw .qmp(operation: "encode \(command)", message: "\(error)")
            }
            var bytes = [UInt8](encoded)
            bytes.append(UInt8(ascii: "\n"))
            var written = 0
            while written < bytes.count {
                let count = bytes[written...].withUnsafeBytes { send(state.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { throw .qmp(operation: "send \(command)", message: String(cString: strerror(errno))) }
                written += count
            }
            while true {
                let message = try readMessage(&state, deadline: deadline)
                if message["event"] != nil { continue }
                if let result = message["return"] { return result }
                if let error = message["error"] {
                    throw .qmpCommandFailed(
                        command: command,
                        errorClass: error["class"]?.stringValue ?? "Error",
                        description: error["desc"]?.stringValue ?? "")
                }
                throw .qmp(operation: command, message: "reply without 'return' or 'error'")
            }
        }

        /// Reads one newline-terminated JSON message.
        private static func readMessage(_ state: inout Connection, deadline: ContinuousClock.Instant) throws(Qemu.Error) -> JSONValue {
            while true {
                if let newline = state.buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(state.buffer[..<newline])
                    state.buffer.removeSubrange(...newline)
                    if line.allSatisfy({ $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: " ") }) { continue }
                    do {
                        return try JSONDecoder().decode(JSONValue.self, from: Data(line))
                    } catch {
                        throw .qmp(operation: "decode", message: String(decoding: line, as: UTF8.self))
                    }
                }
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { throw .qmp(operation: "read", message: "no reply before the deadline") }
                let (seconds, attoseconds) = remaining.components
                let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
                var descriptor = pollfd(fd: state.fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, milliseconds)
                if ready < 0 && errno == EINTR { continue }
                guard ready > 0 else { continue }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = chunk.withUnsafeMutableBytes { recv(state.fd, $0.baseAddress, $0.count, 0) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    throw .qmp(operation: "read", message: count == 0 ? "QEMU closed the connection" : String(cString: strerror(errno)))
                }
                state.buffer += chunk[..<count]
            }
        }
    }
}
