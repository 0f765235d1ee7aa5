import ClusterWire
import Crypto
import Glibc
import NIOCore
import NIOPosix

extension Agent {
    /// Times the agents' stream alone, for `livebuild bench stream`: the same sockets
    /// (``StreamSocket``), handshake and frames (``SecureStream``) a migration uses, over
    /// loopback, sending a file the way a migration sends an image.
    public enum StreamProbe {
        /// Sends the whole of `file` from one stream end to the other on 127.0.0.1; returns
        /// the time from the first byte read to the last byte opened by the receiver, and, with
        /// `digest`, the SHA-256 of what the receiver got (hashing slows the receiver).
        public static func sendFile(_ file: String, keys: Wire.Keys, cipher: Wire.Stream.Cipher = .preferred, digest: Bool = false) async throws -> (time: Duration, sha256: [UInt8]?) {
            var info = stat()
            guard stat(file, &info) == 0 else { throw Failure("cannot read \(file)") }
            let size = Int(info.st_size)
            let (server, port) = try await loopbackServer()
            let clock = ContinuousClock()
            return try await withThrowingTaskGroup(of: (ContinuousClock.Instant, [UInt8]?)?.self) { group in
                group.addTask {
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            return try await connection.executeThenClose { inbound, outbound in
                                let stream = SecureStream(inbound: inbound, outbound: outbound)
                                _ = try await stream.accept(as: Wire.Stream.Server(keys: keys, me: Wire.NodeID(2)))
                                var received = 0
                                var hash = digest ? SHA256() : nil
                                while received < size {
                                    guard let count = try await stream.receive({ bytes in
                                        hash?.update(bufferPointer: bytes)
                                        return bytes.count
                                    }) else { throw Failure("the sender closed early") }
                                    received += count
                                }
                                return (clock.now, hash.map { Array($0.finalize()) })
                            }
                        }
                        return nil
                    }
                }
                let channel = try await StreamSocket.connect(to: Wire.Address(host: "127.0.0.1", port: UInt16(port)))
                let started = try await channel.executeThenClose { inbound, outbound in
                    let stream = SecureStream(inbound: inbound, outbound: outbound)
                    _ = try await stream.connect(as: Wire.Stream.Client(keys: keys, me: Wire.NodeID(1), cipher: cipher))
                    let descriptor = open(file, O_RDONLY | O_CLOEXEC)
                    guard descriptor >= 0 else { throw Failure("cannot read \(file)") }
                    defer { close(descriptor) }
                    let started = clock.now
                    while try await stream.send(reading: descriptor, count: 1 << 20) > 0 {}
                    return started
                }
                guard let (ended, sha256) = try await group.next() ?? nil else { throw Failure("the receiver saw no connection") }
                return (ended - started, sha256)
            }
        }
    }
}
