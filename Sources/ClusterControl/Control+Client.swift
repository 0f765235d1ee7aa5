#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

import NodeError

extension Control {
    /// Asks the agent one question over its Unix socket.
    ///
    /// Plain blocking POSIX calls rather than SwiftNIO: one short request and answer on a local
    /// socket needs no event loop, and keeping NIO out of `cluster` keeps that binary small.
    public enum Client {
        /// Why a request failed: the node side's one error type.
        public typealias Failure = NodeError

        /// Sends `request` to the agent listening on `socketPath` and returns its answer.
        public static func send(_ request: Request, socketPath: String = defaultSocketPath) throws(Failure) -> Response {
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw Failure(description: "cannot create a socket: \(errorText())") }
            defer { close(descriptor) }

            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let pathBytes = Array(socketPath.utf8)
            guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                throw Failure(description: "control socket path \(socketPath) is too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: pathBytes)
                raw[pathBytes.count] = 0
            }
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard connected == 0 else {
                let code = errno
                switch code {
                case EACCES, EPERM:
                    throw Failure(.permission, "permission denied on \(socketPath): run as root or as a member of the '\(groupName)' group")
                case ENOENT, ECONNREFUSED:
                    throw Failure(.unreachable, "clusterd is not running (no agent listening on \(socketPath)); check `systemctl status clusterd`")
                default:
                    throw Failure(description: "cannot connect to \(socketPath): \(errorText(code))")
                }
            }

            let encoded: Data
            do {
                encoded = try JSONEncoder().encode(request)
            } catch {
                throw Failure(description: "cannot encode the request: \(error)")
            }
            var outgoing = Array(encoded)
            outgoing.append(UInt8(ascii: "\n"))
            var offset = 0
            while offset < outgoing.count {
                let written = outgoing[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                guard written > 0 else { throw Failure(description: "cannot send to \(socketPath): \(errorText())") }
                offset += written
            }

            var incoming: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count == 0 { break }
                guard count > 0 else {
                    if errno == EINTR { continue }
                    throw Failure(description: "cannot read from \(socketPath): \(errorText())")
                }
                incoming += buffer[0..<count]
            }
            do {
                return try JSONDecoder().decode(Response.self, from: Data(incoming))
            } catch {
                throw Failure(description: "clusterd sent an answer this `cluster` cannot read (\(incoming.count) bytes): is the agent a different version?")
            }
        }

        static func errorText(_ code: Int32 = errno) -> String {
            String(cString: strerror(code))
        }
    }
}
