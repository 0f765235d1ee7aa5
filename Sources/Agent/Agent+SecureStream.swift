#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterWire
import Glibc
import NIOCore
import Synchronization

extension Agent {
    /// One agent-to-agent TCP connection after its handshake: whole frames in and out, sealed
    /// and opened by a ``Wire/Stream/Session``. Lives inside one `executeThenClose` scope.
    ///
    /// Bulk data (checkpoint images) takes the short path: ``send(reading:count:)`` reads a
    /// file straight into the buffer it seals, and ``receive(_:)`` opens a frame where it lies
    /// in the receive buffer. Each byte is copied once in user space on either side besides
    /// the cipher's own pass (Docs/benchmarks.md, "The agents' stream").
    final class SecureStream {
        private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        /// Bytes received and not yet consumed: the received buffers themselves when a frame
        /// lies in one, a cumulation when it spans several.
        private var buffered = ByteBuffer()
        /// Where ``send(reading:count:)`` reads a file chunk before sealing it.
        private var chunk: [UInt8] = []
        /// The handshake's session, kept twice: the sending side uses only its sealing half and
        /// the receiving side only its opening half, so one task may send while another
        /// receives (the page relay, ``Agent/Migrator/relay(_:socket:)``), and neither touches
        /// what the other changes.
        private var sendSession: Wire.Stream.Session?
        private var receiveSession: Wire.Stream.Session?
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
            (sendSession, receiveSession) = (session, session)
            return session.peer
        }

        /// The server's side: hello, proof, then the client's proof.
        func accept(as server: Wire.Stream.Server) async throws -> Wire.NodeID {
            var server = server
            try await write(try server.receive(clientHello: try await read(Wire.Stream.clientHelloSize)))
            let session = try server.receive(finish: try await read(Wire.Stream.finishSize))
            (sendSession, receiveSession) = (session, session)
            return session.peer
        }

        func send(_ payload: [UInt8]) async throws {
            try await outbound.write(try frame(sealing: payload))
        }

        /// Sends `buffer`'s readable bytes, at most one frame's worth, as one frame.
        func send(_ buffer: ByteBuffer) async throws {
            let frame = try buffer.withUnsafeReadableBytes { try self.frame(sealing: $0) }
            try await outbound.write(frame)
        }

        /// Reads up to `count` bytes (at most one frame's worth) from `descriptor` at its offset
        /// and sends them as one frame; returns how many were sent, 0 at the end of the file.
        func send(reading descriptor: Int32, count: Int) async throws -> Int {
            try await send(filling: min(count, Wire.Stream.maxPayload)) { buffer in
                let got = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
                guard got >= 0 else { throw Agent.Failure("cannot read: \(String(cString: strerror(errno)))") }
                return got
            }
        }

        /// Lets `fill` write up to `count` bytes (at most one frame's worth) into the stream's
        /// reused buffer and sends what it wrote as one frame; returns that count (nothing is
        /// sent for 0).
        func send(filling count: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Int) async throws -> Int {
            let want = min(count, Wire.Stream.maxPayload)
            if chunk.count < want { chunk = [UInt8](repeating: 0, count: want) }
            let got = try chunk.withUnsafeMutableBytes { try fill(UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
            precondition((0...want).contains(got), "filled \(got) bytes of \(want)")
            guard got > 0 else { return 0 }
            let frame = try chunk.withUnsafeBytes { try self.frame(sealing: UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            try await outbound.write(frame)
            return got
        }

        /// `payload` sealed as the next frame, in one buffer.
        private func frame(sealing payload: some DataProtocol) throws -> ByteBuffer {
            guard var session = sendSession else { throw Wire.Stream.Failure.authenticationFailed }
            let (header, ciphertext, tag) = try session.seal(parts: payload)
            sendSession = session
            var frame = ByteBufferAllocator().buffer(capacity: header.count + ciphertext.count + tag.count)
            frame.writeBytes(header)
            ciphertext.withUnsafeBytes { _ = frame.writeBytes($0) }
            tag.withUnsafeBytes { _ = frame.writeBytes($0) }
            return frame
        }

        /// The next frame's payload; nil when the peer closed the connection between frames.
        func receive() async throws -> [UInt8]? {
            try await receive { Array($0) }
        }

        /// Hands the next frame's payload to `body` (valid only inside it); nil when the peer
        /// closed the connection between frames.
        func receive<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) async throws -> Result? {
            guard var session = receiveSession else { throw Wire.Stream.Failure.authenticationFailed }
            let timer = frameDeadline.map { deadline in
                let (channel, flag) = (deadline.channel, expired)
                return deadline.channel.eventLoop.scheduleTask(in: deadline.limit) {
                    flag.set()
                    channel.close(promise: nil)
                }
            }
            defer { timer?.cancel() }
            guard try await fill(Wire.Stream.headerSize, endOK: true) else { return nil }
            let header = buffered.readBytes(length: Wire.Stream.headerSize)!
            let length = try Wire.Stream.Session.bodyLength(header: header)
            guard length - Wire.Stream.tagSize <= maxPayload else { throw Wire.Stream.Failure.frameTooLarge(length - Wire.Stream.tagSize) }
            _ = try await fill(length, endOK: false)
            let payload = try buffered.readSlice(length: length)!.withUnsafeReadableBytes { bytes throws in
                try session.open(header: header, frameBody: bytes)
            }
            receiveSession = session
            return try payload.withUnsafeBytes(body)
        }

        private func write(_ bytes: [UInt8]) async throws {
            try await outbound.write(ByteBuffer(bytes: bytes))
        }

        private func read(_ count: Int) async throws -> [UInt8] {
            _ = try await fill(count, endOK: false)
            return buffered.readBytes(length: count)!
        }

        /// Waits until `count` bytes are buffered. False when the peer closed the connection
        /// with nothing buffered and `endOK`; a close anywhere else is an error.
        private func fill(_ count: Int, endOK: Bool) async throws -> Bool {
            while buffered.readableBytes < count {
                guard var next = try await inbound.next() else {
                    if endOK && buffered.readableBytes == 0 { return false }
                    throw Wire.Stream.Failure.notAStream
                }
                if buffered.readableBytes == 0 {
                    // Nothing pending: take the received buffer as it is, no copy.
                    buffered = next
                } else {
                    if buffered.readerIndex > 0 && buffered.writableBytes < next.readableBytes { buffered.discardReadBytes() }
                    buffered.writeBuffer(&next)
                }
            }
            return true
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
