import Glibc
import ClusterWire
import NIOCore
import NIOPosix

extension Agent {
    /// TCP settings of every agent-to-agent stream, both ends. A node that crashes or loses
    /// power sends neither FIN nor RST, so without them a migration waiting on a dead peer
    /// would wait forever. The kernel detects the dead peer instead:
    /// - idle streams (the source waiting while the destination restores) send keepalive
    ///   probes after ``keepaliveIdle`` and give up after ``keepaliveCount`` unanswered probes
    ///   ``keepaliveInterval`` apart: a dead peer is noticed within 11 s;
    /// - streams with data in flight give up when nothing is acknowledged for ``userTimeout``
    ///   (TCP_USER_TIMEOUT, which also bounds zero-window probing).
    /// A live peer's kernel answers both however busy its agent is, so a slow node is not
    /// mistaken for a dead one.
    enum StreamSocket {
        static let keepaliveIdle = 5
        static let keepaliveInterval = 2
        static let keepaliveCount = 3
        static let userTimeout: Duration = .seconds(20)

        /// Applies the settings to a stream's channel (client or accepted).
        static func configure(_ channel: Channel) throws {
            let options = channel.syncOptions
            // No Nagle delay on either end (an accepted socket is not sure to inherit it from the
            // listener): post-copy's page relay is request and response, and a response's last
            // segment held for the ACK of its header would wait out the peer's delayed ACK.
            try options?.setOption(.tcpOption(.tcp_nodelay), value: 1)
            try options?.setOption(.socketOption(.so_keepalive), value: 1)
            try options?.setOption(.socket(SocketOptionLevel(IPPROTO_TCP), TCP_KEEPIDLE), value: keepaliveIdle)
            try options?.setOption(.socket(SocketOptionLevel(IPPROTO_TCP), TCP_KEEPINTVL), value: keepaliveInterval)
            try options?.setOption(.socket(SocketOptionLevel(IPPROTO_TCP), TCP_KEEPCNT), value: keepaliveCount)
            try options?.setOption(
                .socket(SocketOptionLevel(IPPROTO_TCP), TCP_USER_TIMEOUT), value: Int(userTimeout.components.seconds * 1000))
        }

        /// Connects to another agent's stream port (2 s to connect).
        static func connect(to address: Wire.Address) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
            try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(2))
                .connect(host: address.host, port: Int(address.port)) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try configure(channel)
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        }
    }
}
