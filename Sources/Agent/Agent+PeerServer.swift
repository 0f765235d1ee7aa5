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
        let gate = StreamGate()

        /// Time to finish the handshake, then to send the first frame: a connection that only
        /// holds a descriptor is closed.
        static let handshakeDeadline: TimeAmount = .seconds(5)
        static let firstFrameDeadline: TimeAmount = .seconds(5)
        /// Longest silence between frames of a migration (the source runs `criu pre-dump`
        /// between rounds: about 30 s for 1 GiB under TCG).
        static let migrationIdleDeadline: TimeAmount = .seconds(120)
        /// Largest first frame: a forwarded control request (``ControlServer/maxRequest``) and
        /// its envelope.
        static let maxRequestFrame = ControlServer.maxRequest + 64 * 1024

        static func bind(host: String, port: UInt16, logger: Logger) async throws -> PeerServer {
            do {
                let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelOption(.backlog, value: 256)
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

        /// The address part of a socket address (`[IPv4]127.0.0.1/127.0.0.1:4242` → `127.0.0.1`).
        static func source(of address: SocketAddress?) -> String {
            address?.ipAddress ?? "?"
        }

        private func answer(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, core: Core, jobs: Jobs.Supervisor) async {
            let remote = connection.channel.remoteAddress?.description ?? "?"
            let source = Self.source(of: connection.channel.remoteAddress)
            // Before anything is read: over the limits, the connection is closed at once.
            if let refusal = gate.admit(source: source) {
                await core.refuseStream(refusal.rawValue, from: remote)
                try? await connection.channel.close()
                return
            }
            var pending = true
            defer { if pending { gate.release(pendingFrom: source) } }
            do {
                try await connection.executeThenClose { inbound, outbound in
                    let stream = SecureStream(inbound: inbound, outbound: outbound)
                    let deadline = connection.channel.eventLoop.scheduleTask(in: Self.handshakeDeadline) {
                        connection.channel.close(promise: nil)
                    }
                    let peer: Wire.NodeID
                    do {
                        peer = try await stream.accept(as: Wire.Stream.Server(keys: core.keys, me: core.settings.nodeID))
                        deadline.cancel()
                    } catch let failure as Wire.Stream.Failure {
                        await core.countStream(rejected: failure, from: remote)
                        return
                    }
                    pending = false
                    if let refusal = gate.authenticated(source: source, peer: peer.rawValue) {
                        await core.refuseStream(refusal.rawValue, from: remote)
                        return
                    }
                    defer { gate.release(peer: peer.rawValue, source: source) }
                    await core.countStream(rejected: nil, from: remote)
                    stream.maxPayload = Self.maxRequestFrame
                    stream.frameDeadline = (connection.channel, Self.firstFrameDeadline)
                    let payload: [UInt8]?
                    do {
                        payload = try await stream.receive()
                    } catch {
                        if stream.expired.isSet { await core.refuseStream("firstFrameTimeout", from: remote) }
                        throw error
                    }
                    guard let payload else {
                        if stream.expired.isSet { await core.refuseStream("firstFrameTimeout", from: remote) }
                        return
                    }
                    guard let frame = try? JSONDecoder().decode(PeerFrame.self, from: Data(payload)) else {
                        await core.refuseStream("malformedRequest", from: remote)
                        return
                    }
                    switch frame {
                    case .migration:
                        // The offer carries the job's record (its arguments and environment, up
                        // to a control request's size) in base64.
                        stream.maxPayload = ControlServer.maxRequest * 2
                        stream.frameDeadline = (connection.channel, Self.migrationIdleDeadline)
                        guard let first = try await stream.receive(),
                              let message = try? JSONDecoder().decode(Migration.Message.self, from: Data(first)) else {
                            await core.refuseStream(stream.expired.isSet ? "idleTimeout" : "malformedRequest", from: remote)
                            return
                        }
                        do {
                            try await Migrator(core: core, jobs: jobs, logger: logger).receive(stream, first: message, from: peer)
                        } catch {
                            if stream.expired.isSet { await core.refuseStream("idleTimeout", from: remote) }
                            throw error
                        }
                    case .request(let forwarded):
                        try await answer(forwarded, on: stream, from: peer, core: core, jobs: jobs)
                    }
                }
            } catch let failure as Wire.Stream.Failure {
                await core.countStream(rejected: failure, from: remote)
            } catch {
                logger.debug("stream from \(remote) failed: \(error)")
            }
        }

        /// Answers a control request another agent forwarded, locally (never forwarded again).
        private func answer(_ forwarded: PeerRequest, on stream: SecureStream, from peer: Wire.NodeID, core: Core, jobs: Jobs.Supervisor) async throws {
            logger.debug("\(forwarded.request.command.rawValue) from \(peer) for uid \(forwarded.uid)")
            let response: Control.Response
            do {
                response = try await JobRouter(
                    core: core, jobs: jobs, uid: forwarded.uid, gid: forwarded.gid, forwarded: true, logger: logger
                ).respond(to: forwarded.request)
            } catch {
                response = .error(String(describing: error))
            }
            try await stream.send(Array(try JSONEncoder().encode(response)))
        }
    }
}
