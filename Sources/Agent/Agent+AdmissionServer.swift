#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Admission
import ClusterWire
import Logging
import NIOCore
import NIOPosix

extension Agent {
    /// The head's admission port (the agent's port + 1, TCP): one JSON request line in, one
    /// response line out, per connection. Anyone on the LAN may connect, so everything is
    /// bounded: connections per source and in all, 5 s for the request, 8 KiB per line, and
    /// the book's own capacity.
    struct AdmissionServer: Sendable {
        let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        let logger: Logger
        let gate = StreamGate(limits: .init(pendingTotal: 32, pendingPerSource: 4, establishedTotal: 0, establishedPerPeer: 0, establishedPerSource: 0))
        static let deadline: TimeAmount = .seconds(5)

        static func bind(host: String, port: UInt16, logger: Logger) async throws -> AdmissionServer {
            do {
                let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelOption(.backlog, value: 128)
                    .bind(host: host, port: Int(port)) { child in
                        child.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                        }
                    }
                return AdmissionServer(channel: channel, logger: logger)
            } catch {
                throw Failure("cannot listen on TCP \(host):\(port) for admission requests: \(error)")
            }
        }

        func serve(desk: AdmissionDesk, core: Core) async throws {
            try await channel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await answer(connection, desk: desk, core: core) }
                    }
                }
            }
        }

        private func answer(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, desk: AdmissionDesk, core: Core) async {
            let remote = connection.channel.remoteAddress?.description ?? "?"
            let source = PeerServer.source(of: connection.channel.remoteAddress)
            if let refusal = gate.admit(source: source) {
                await core.refuseStream("admission-" + refusal.rawValue, from: remote)
                try? await connection.channel.close()
                return
            }
            defer { gate.release(pendingFrom: source) }
            let timer = connection.channel.eventLoop.scheduleTask(in: Self.deadline) { connection.channel.close(promise: nil) }
            defer { timer.cancel() }
            do {
                try await connection.executeThenClose { inbound, outbound in
                    var line: [UInt8] = []
                    for try await buffer in inbound {
                        line += buffer.readableBytesView
                        if line.contains(UInt8(ascii: "\n")) || line.count > Admission.maxMessage { break }
                    }
                    let request: Admission.Request
                    do {
                        request = try Admission.Request.decode(line.prefix { $0 != UInt8(ascii: "\n") })
                    } catch {
                        await core.refuseStream("admission-malformed", from: remote)
                        return
                    }
                    let response = await desk.answer(request, from: source, now: ContinuousClock.now)
                    var bytes = Array(try JSONEncoder().encode(response))
                    bytes.append(UInt8(ascii: "\n"))
                    try await outbound.write(ByteBuffer(bytes: bytes))
                }
            } catch {
                logger.debug("admission connection from \(remote) failed: \(error)")
            }
        }
    }
}
