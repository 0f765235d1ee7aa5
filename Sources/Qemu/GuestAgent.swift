import Foundation

extension Qemu {
    /// A client of the QEMU guest agent (qemu-ga) through the host end of its virtio-serial port
    /// (see `GuestAgentChannel`): runs commands inside a guest without any network.
    ///
    /// Each call opens its own connection, resynchronises with `guest-sync-delimited` (so bytes
    /// left over by an earlier client are skipped), sends its commands and closes. QEMU serves one
    /// connection at a time, so callers in different processes take turns through an advisory
    /// lock on `<socket>.lock`. Calls block the calling thread for at most their timeout.
    public struct GuestAgent: Sendable {
        public let socketPath: String

        public init(socketPath: String) {
            self.socketPath = socketPath
        }

        /// Whether the agent answers `guest-ping` within `timeout` (false also while the guest
        /// is still booting or QEMU has not created the socket yet).
        public func ping(timeout: Duration = .seconds(3)) -> Bool {
            do {
                try withConnection(deadline: .now + timeout) { connection throws(Qemu.Error) in
                    _ = try connection.execute("guest-ping")
                }
                return true
            } catch {
                return false
            }
        }

        /// Runs `path` with `arguments` in the guest, waits for it to end and returns its exit
        /// status and captured output. At `timeout` it throws; the process then keeps running in
        /// the guest (the agent cannot kill it).
        public func exec(path: String, arguments: [String], timeout: Duration) async throws -> ExecStatus {
            let deadline = ContinuousClock.now + timeout
            return try await withConnection(deadline: deadline) { connection in
                let pid = try Self.decodeExecPID(try connection.execute("guest-exec", Self.execArguments(path: path, arguments: arguments)))
                var interval = Duration.milliseconds(20)
                while true {
                    let status = try Self.decodeExecStatus(try connection.execute("guest-exec-status", ["pid": .number(Double(pid))]))
                    if status.exited { return status }
                    guard ContinuousClock.now + interval < deadline else {
                        throw Qemu.Error.guestAgent(
                            socket: socketPath, message: "\(path) \(arguments.joined(separator: " ")) still running after \(timeout) (pid \(pid) in the guest)")
                    }
                    try await Task.sleep(for: interval)
                    interval = min(interval * 2, .milliseconds(500))
                }
            }
        }

        /// Runs `command` with `/bin/sh -c` in the guest; see `exec(path:arguments:timeout:)`.
        public func shell(_ command: String, timeout: Duration) async throws -> ExecStatus {
            try await exec(path: "/bin/sh", arguments: ["-c", command], timeout: timeout)
        }

        // MARK: - Connection

        private func withConnection<T>(deadline: ContinuousClock.Instant, _ body: (Connection) throws(Qemu.Error) -> T) throws(Qemu.Error) -> T {
            let lock = try Lock(path: socketPath + ".lock", deadline: deadline)
            defer { lock.release() }
            let connection = try Connection(socketPath: socketPath, deadline: deadline)
            try connection.synchronise()
            return try body(connection)
        }

        private func withConnection<T>(deadline: ContinuousClock.Instant, _ body: (Connection) async throws -> T) async throws -> T {
            let lock = try Lock(path: socketPath + ".lock", deadline: deadline)
            defer { lock.release() }
            let connection = try Connection(socketPath: socketPath, deadline: deadline)
            try connection.synchronise()
            return try await body(connection)
        }

        /// One connection: the socket and the bytes received but not consumed yet.
        final class Connection {
            private let socket: UnixSocket
            private let deadline: ContinuousClock.Instant
            private var buffer: [UInt8] = []

            init(socketPath: String, deadline: ContinuousClock.Instant) throws(Qemu.Error) {
                socket = try UnixSocket(connectingTo: socketPath)
                self.deadline = deadline
            }

            /// Makes the agent drop any partial request, then waits for the reply to a
            /// `guest-sync-delimited` with a fresh id, skipping everything before it.
            func synchronise() throws(Qemu.Error) {
                let id = Int.random(in: 1...Int(Int32.max))
                try socket.send([GuestAgent.delimiter])
                try socket.send(try GuestAgent.encodeRequest("guest-sync-delimited", arguments: ["id": .number(Double(id))]))
                while true {
                    let line = try nextLine("guest-sync-delimited")
                    if let reply = try? GuestAgent.decodeReply(line, command: "guest-sync-delimited"), reply.intValue == id {
                        return
                    }
                }
            }

            /// Sends `command` and returns its `return` value.
            func execute(_ command: String, _ arguments: [String: JSONValue] = [:]) throws(Qemu.Error) -> JSONValue {
                try socket.send(try GuestAgent.encodeRequest(command, arguments: arguments))
                return try GuestAgent.decodeReply(try nextLine(command), command: command, socket: socket.path)
            }

            /// The next non-empty line; bytes up to a delimiter (0xFF) are dropped.
            private func nextLine(_ awaited: String) throws(Qemu.Error) -> [UInt8] {
                while true {
                    if let delimiter = buffer.lastIndex(of: GuestAgent.delimiter) {
                        buffer.removeSubrange(...delimiter)
                    }
                    if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Array(buffer[..<newline])
                        buffer.removeSubrange(...newline)
                        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
                        return line
                    }
                    guard let bytes = try socket.receive(deadline: deadline) else {
                        throw .guestAgent(socket: socket.path, message: "no reply to \(awaited) before the deadline")
                    }
                    buffer += bytes
                }
            }
        }

        /// An exclusive `flock` on a lock file beside the socket, taken by polling until a deadline.
        struct Lock {
            private let fd: Int32

            init(path: String, deadline: ContinuousClock.Instant) throws(Qemu.Error) {
                fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
                guard fd >= 0 else {
                    throw .guestAgent(socket: path, message: "cannot open the lock file: \(String(cString: strerror(errno)))")
                }
                while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                    guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                        close(fd)
                        throw .guestAgent(socket: path, message: "another client holds the guest agent until the deadline")
                    }
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }

            func release() { close(fd) }
        }
    }
}
