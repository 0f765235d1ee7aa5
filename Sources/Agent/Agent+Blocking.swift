import Glibc

extension Agent {
    /// Blocking I/O on a descriptor, for the threads that serve or play criu on a socket pair
    /// (``Migrator/LocalPageServer``, the probes).
    enum Blocking {
        /// Runs `step` (a read or a write) over all of `buffer` until it is done: false at an
        /// end or an error.
        static func fully(_ buffer: UnsafeMutableRawBufferPointer, _ step: (UnsafeMutableRawPointer, Int) -> Int) -> Bool {
            var done = 0
            while done < buffer.count {
                let moved = step(buffer.baseAddress! + done, buffer.count - done)
                if moved < 0 && errno == EINTR { continue }
                guard moved > 0 else { return false }
                done += moved
            }
            return true
        }

        static func fully(_ buffer: inout [UInt8], _ step: (UnsafeMutableRawPointer, Int) -> Int) -> Bool {
            buffer.withUnsafeMutableBytes { fully($0, step) }
        }

        /// Exactly `count` bytes from `socket`, or nil at its end or an error.
        static func receive(_ socket: Int32, count: Int) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            return fully(&bytes) { recv(socket, $0, $1, 0) } ? bytes : nil
        }

        /// All of `bytes` to `socket` (no SIGPIPE if the peer has gone).
        static func send(_ socket: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
            fully(UnsafeMutableRawBufferPointer(mutating: bytes)) { Glibc.send(socket, $0, $1, Int32(MSG_NOSIGNAL)) }
        }

        static func send(_ socket: Int32, _ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBytes { send(socket, $0) }
        }
    }
}
