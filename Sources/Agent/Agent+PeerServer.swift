#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterControl
import ClusterWire
import Jobs
import Logging
import Migration
import NIOCore
import NIOPosix

extension Agent {
    /// The agent's TCP side, on the same port as its datagrams: accepts secure streams from
    /// other members and answers one forwarded request on each (job requests made on another
    /// node: `cluster run --node`, `cluster ps` of the whole cluster, logs and kills of jobs
    /// running here).
    struct PeerServer: Sendable {
        let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        let logger: Logger

        static func bind(host: String, port: UInt16, logger: Logger) async throws -> PeerServer {
            do {
                let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: host, port: Int(port)) { child in
                        child.eventLoop.makeCompletedFuture {
                            try StreamSocket.configure(child)
                            return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                        }
                    }
                return PeerServer(channel: channel, logger: logger)
            } catch {
                throw Failure("cannot listen on TCP \(host):\(port) for other agents: \(error); is another clusterd running?")
            }
        }

        func serve(core: Core, jobs: Jobs.Supervisor) async throws {
            try await channel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await answer(connection, core: core, jobs: jobs) }
                    }
                }
            }
        }

        private func answer(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, core: Core, jobs: Jobs.Supervisor) async {
            let remote = connection.channel.remoteAddress?.description ?? "?"
            do {
                try await connection.executeThenClose { inbound, outbound in
                    let stream = SecureStream(inbound: inbound, outbound: outbound)
                    // A connection that does not complete its handshake in 5 s is closed.
                    let deadline = connection.channel.eventLoop.scheduleTask(in: .seconds(5)) {
                        connection.channel.close(promise: nil)
                    }
                    let peer: Wire.NodeID
                    do {
                        peer = try await stream.accept(as: Wire.Stream.Server(keys: core.keys, me: core.settings.nodeID))
                        deadline.cancel()
                    } catch let failure as Wire.Stream.Failure {
                        await core.countStream(rejected: failure)
                        logger.notice("refused a stream from \(remote): \(failure)")
                        return
                    }
                    await core.countStream(rejected: nil)
                    guard let payload = try await stream.receive(),
                          let frame = try? JSONDecoder().decode(PeerFrame.self, from: Data(payload)) else { return }
                    if frame.migration == true {
                        guard let first = try await stream.receive(),
                              let message = try? JSONDecoder().decode(Migration.Message.self, from: Data(first)) else { return }
                        try await Migrator(core: core, jobs: jobs, logger: logger).receive(stream, first: message, from: peer)
                        return
                    }
                    guard let forwarded = frame.request else { return }
                    logger.debug("\(forwarded.request.command.rawValue) from \(peer) for uid \(forwarded.uid)")
                    let response: Control.Response
                    do {
                        response = try await JobRouter(
                            core: core, jobs: jobs, uid: forwarded.uid, gid: forwarded.gid, forwarded: true, logger: logger
                        ).respond(to: forwarded.request)
                    } catch {
                        response = Control.Response(error: String(describing: error))
                    }
                    try await stream.send(Array(try JSONEncoder().encode(response)))
                }
            } catch let failure as Wire.Stream.Failure {
                await core.countStream(rejected: failure)
            } catch {
                logger.debug("stream from \(remote) failed: \(error)")
            }
        }
    }
}
