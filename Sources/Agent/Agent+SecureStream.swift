import ClusterWire
import NIOCore
import Synchronization

extension Agent {
    /// One agent-to-agent TCP connection after its handshake: whole frames in and out, sealed
    /// and opened by a ``Wire/Stream/Session``. Lives inside one `executeThenClose` scope.
    final class SecureStream {
        private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        private var buffered: [UInt8] = []
        private(set) var session: Wire.Stream.Session?
        /// Largest frame payload this side accepts now: small until the stream has shown what
        /// it is for (a request fits in ``Agent/ControlServer/maxRequest``), so a key holder's
        /// idle streams hold little memory; a migration raises it to a whole image chunk.
        var maxPayload = Wire.Stream.maxPayload
        /// Closes the connection when no whole frame arrives within the limit (nil: no limit).
        var frameDeadline: (channel: any Channel, limit: TimeAmount)?
        /// Set when ``frameDeadline`` closed the connection.
        let expired = Flag()

        init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
            self.inbound = inbound.makeAsyncIterator()
            self.outbound = outbound
        }

        /// The client's side: hello, check the server's proof, finish.
        func connect(as client: Wire.Stream.Client) async throws -> Wire.NodeID {
            try await write(client.hello)
            let (finish, session) = try client.receive(serverHello: try await read(Wire.Stream.serverHelloSize))
            try await write(finish)
            self.session = session
            return session.peer
        }

        /// The server's side: hello, proof, then the client's proof.
        func accept(as server: Wire.Stream.Server) async throws -> Wire.NodeID {
            var server = server
            try await write(try server.receive(clientHello: try await read(Wire.Stream.clientHelloSize)))
            let session = try server.receive(finish: try await read(Wire.Stream.finishSize))
            self.session = session
            return session.peer
        }

        func send(_ payload: [UInt8]) async throws {
            guard var session else { throw Wire.Stream.Failure.authenticationFailed }
            let frame = try session.seal(payload)
            self.session = session
            try await write(frame)
        }

        /// The next frame's payload; nil when the peer closed the connection between frames.
        func receive() async throws -> [UInt8]? {
            guard var session else { throw Wire.Stream.Failure.authenticationFailed }
            let timer = frameDeadline.map { deadline in
                let (channel, flag) = (deadline.channel, expired)
                return deadline.channel.eventLoop.scheduleTask(in: deadline.limit) {
                    flag.set()
                    channel.close(promise: nil)
                }
            }
            defer { timer?.cancel() }
            guard let header = try await read(Wire.Stream.headerSize, endOK: true) else { return nil }
            let length = try Wire.Stream.Session.bodyLength(header: header)
            guard length - Wire.Stream.tagSize <= maxPayload else { throw Wire.Stream.Failure.frameTooLarge(length - Wire.Stream.tagSize) }
            let body = try await read(length)
            let payload = try session.open(header: header, body: body)
            self.session = session
            return payload
        }

        private func write(_ bytes: [UInt8]) async throws {
            try await outbound.write(ByteBuffer(bytes: bytes))
        }

        private func read(_ count: Int) async throws -> [UInt8] {
            guard let bytes = try await read(count, endOK: false) else { throw Wire.Stream.Failure.notAStream }
            return bytes
        }

        private func read(_ count: Int, endOK: Bool) async throws -> [UInt8]? {
            while buffered.count < count {
                guard let next = try await inbound.next() else {
                    if endOK && buffered.isEmpty { return nil }
                    throw Wire.Stream.Failure.notAStream
                }
                buffered += next.readableBytesView
            }
            let bytes = Array(buffered.prefix(count))
            buffered.removeFirst(count)
            return bytes
        }
    }
}

extension Agent {
    /// A flag set once from any thread (an event loop's timer) and read by the stream's task.
    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }
}
