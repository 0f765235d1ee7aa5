import ClusterWire
import Glibc
import NIOCore
import NIOPosix

extension Agent.StreamProbe {
    /// What ``files(_:announcing:into:keys:)`` saw: the order in which the receiver completed
    /// the files, and how each side ended (nil: well).
    public struct FilesOutcome: Sendable {
        public var completed: [Int]
        public var senderFailure: String?
        public var receiverFailure: String?
    }

    /// Sends `paths` over the agents' stream on 127.0.0.1 the way a migration sends a round's
    /// files (``Agent/Migrator/sendConcatenated(_:on:beforeEachFrame:)``), each announced as
    /// `announcing`'s size, and receives them as the destination does
    /// (``Agent/Migrator/receiveConcatenated(_:on:open:written:)``) into `directory`/INDEX.
    public static func files(_ paths: [String], announcing sizes: [UInt64], into directory: String, keys: Wire.Keys) async throws -> FilesOutcome {
        precondition(paths.count == sizes.count)
        let (server, port) = try await loopbackServer()
        let files = sizes.enumerated().map { (size: $0.element, name: "file \($0.offset)") }
        return try await withThrowingTaskGroup(of: (completed: [Int], failure: String?)?.self) { group in
            group.addTask {
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        return try await connection.executeThenClose { inbound, outbound in
                            let stream = Agent.SecureStream(inbound: inbound, outbound: outbound)
                            _ = try await stream.accept(as: Wire.Stream.Server(keys: keys, me: Wire.NodeID(2)))
                            var completed: [Int] = []
                            do {
                                try await Agent.Migrator.receiveConcatenated(files, on: stream, open: { index in
                                    let descriptor = open(directory + "/\(index)", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                                    guard descriptor >= 0 else { throw Agent.Failure("cannot write \(directory)/\(index)") }
                                    return descriptor
                                }, written: { completed.append($0) })
                                return (completed, nil)
                            } catch {
                                return (completed, "\(error)")
                            }
                        }
                    }
                    return nil
                }
            }
            let channel = try await Agent.StreamSocket.connect(to: Wire.Address(host: "127.0.0.1", port: UInt16(port)))
            let senderFailure: String? = try await channel.executeThenClose { inbound, outbound in
                let stream = Agent.SecureStream(inbound: inbound, outbound: outbound)
                _ = try await stream.connect(as: Wire.Stream.Client(keys: keys, me: Wire.NodeID(1)))
                do {
                    _ = try await Agent.Migrator.sendConcatenated(Array(zip(paths, sizes)), on: stream)
                    return nil
                } catch {
                    return "\(error)"
                }
            }
            guard let received = try await group.next() ?? nil else { throw Agent.Failure("the receiver saw no connection") }
            return FilesOutcome(completed: received.completed, senderFailure: senderFailure, receiverFailure: received.failure)
        }
    }
}
