import ClusterWire
import Glibc
import NIOCore
import NIOPosix

extension Agent.StreamProbe {
    /// What ``relayRoundTrips(_:requestBytes:responseBytes:keys:)`` measured.
    public struct RelayFigures: Sendable {
        /// All round trips, end to end.
        public var time: Duration
        /// Whether every response arrived byte-exact.
        public var intact: Bool
    }

    /// Post-copy's page relay (``Agent/Migrator/relay(_:socket:)``) on loopback, as criu uses
    /// it: on one side a "lazy-pages daemon" writes a request of `requestBytes` and waits for a
    /// response of `responseBytes`, `rounds` times; on the other a "page server" answers each
    /// with bytes that name the round. Both talk to a socketpair the agents relay over one
    /// secure stream, then close their ends, which must end both relays. Each side's criu is a
    /// thread doing blocking I/O, as criu does.
    public static func relayRoundTrips(_ rounds: Int, requestBytes: Int = 24, responseBytes: Int, keys: Wire.Keys) async throws -> RelayFigures {
        let (server, port) = try await loopbackServer()
        // One thread for each side's criu.
        let threads = NIOThreadPool(numberOfThreads: 2)
        threads.start()
        defer { threads.shutdownGracefully { _ in } }
        let serving = try Agent.Migrator.PageSocket()
        let asking = try Agent.Migrator.PageSocket()
        defer {
            serving.release()
            asking.release()
        }
        // The page server: answers each request with `responseBytes` of its round number.
        let answered = thread(threads) { () -> Bool in
            defer { _ = close(serving.criuEnd) }
            var request = [UInt8](repeating: 0, count: requestBytes)
            for round in 0..<rounds {
                guard readFully(serving.criuEnd, &request) else { return false }
                var response = [UInt8](repeating: UInt8(truncatingIfNeeded: round), count: responseBytes)
                guard writeFully(serving.criuEnd, &response) else { return false }
            }
            var more: [UInt8] = [0]
            return read(serving.criuEnd, &more, 1) == 0
        }
        // The daemon: asks, checks each answer, closes.
        let clock = ContinuousClock()
        let asked = thread(threads) { () -> (Duration, Bool) in
            defer { _ = close(asking.criuEnd) }
            let started = clock.now
            var intact = true
            var request = [UInt8](repeating: 7, count: requestBytes)
            var response = [UInt8](repeating: 0, count: responseBytes)
            for round in 0..<rounds {
                guard writeFully(asking.criuEnd, &request), readFully(asking.criuEnd, &response) else { return (clock.now - started, false) }
                intact = intact && response.allSatisfy { $0 == UInt8(truncatingIfNeeded: round) }
            }
            return (clock.now - started, intact)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        try await connection.executeThenClose { inbound, outbound in
                            let stream = Agent.SecureStream(inbound: inbound, outbound: outbound)
                            _ = try await stream.accept(as: Wire.Stream.Server(keys: keys, me: Wire.NodeID(2)))
                            _ = try await Agent.Migrator.relay(stream, socket: serving)
                        }
                        return
                    }
                }
            }
            let channel = try await Agent.StreamSocket.connect(to: Wire.Address(host: "127.0.0.1", port: UInt16(port)))
            try await channel.executeThenClose { inbound, outbound in
                let stream = Agent.SecureStream(inbound: inbound, outbound: outbound)
                _ = try await stream.connect(as: Wire.Stream.Client(keys: keys, me: Wire.NodeID(1)))
                _ = try await Agent.Migrator.relay(stream, socket: asking)
            }
            try await group.waitForAll()
        }
        let (time, intact) = try await asked.value
        let answeredWell = try await answered.value
        return RelayFigures(time: time, intact: intact && answeredWell)
    }

    /// What criu's end of the socketpair sees when the relay's stream breaks (the other agent
    /// closes it after the handshake): whether it read an end before the agent released its
    /// side (it must not: the agent decides the job's fate first), and after (it must).
    public static func relayBreak(keys: Wire.Keys) async throws -> (relayFailed: Bool, endBeforeRelease: Bool, endAfterRelease: Bool) {
        let (server, port) = try await loopbackServer()
        let socket = try Agent.Migrator.PageSocket()
        defer { _ = close(socket.criuEnd) }
        let accepting = Task {
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    try await connection.executeThenClose { inbound, outbound in
                        let stream = Agent.SecureStream(inbound: inbound, outbound: outbound)
                        _ = try await stream.accept(as: Wire.Stream.Server(keys: keys, me: Wire.NodeID(2)))
                    }
                    return
                }
            }
        }
        var relayFailed = false
        let channel = try await Agent.StreamSocket.connect(to: Wire.Address(host: "127.0.0.1", port: UInt16(port)))
        do {
            try await channel.executeThenClose { inbound, outbound in
                let stream = Agent.SecureStream(inbound: inbound, outbound: outbound)
                _ = try await stream.connect(as: Wire.Stream.Client(keys: keys, me: Wire.NodeID(1)))
                _ = try await Agent.Migrator.relay(stream, socket: socket)
            }
        } catch {
            relayFailed = true
        }
        try await accepting.value
        let before = ended(socket.criuEnd, within: 300)
        socket.release()
        let after = ended(socket.criuEnd, within: 1000)
        return (relayFailed, before, after)
    }

    /// Whether `descriptor` reads an end (or an error) within `milliseconds`.
    private static func ended(_ descriptor: Int32, within milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1 else { return false }
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT)) <= 0
    }

    /// A listening agent-stream socket on a free loopback port.
    static func loopbackServer() async throws -> (NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>, Int) {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    try Agent.StreamSocket.configure(child)
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        guard let port = server.channel.localAddress?.port else { throw Agent.Failure("no loopback port") }
        return (server, port)
    }

    /// `body` on a thread of its own (blocking I/O, as criu's), its result awaited.
    private static func thread<T: Sendable>(_ pool: NIOThreadPool, _ body: @escaping @Sendable () -> T) -> Task<T, any Error> {
        Task { try await pool.runIfActive(body) }
    }

    private static func readFully(_ descriptor: Int32, _ buffer: inout [UInt8]) -> Bool {
        Agent.Blocking.fully(&buffer) { read(descriptor, $0, $1) }
    }

    private static func writeFully(_ descriptor: Int32, _ buffer: inout [UInt8]) -> Bool {
        Agent.Blocking.fully(&buffer) { write(descriptor, $0, $1) }
    }
}
