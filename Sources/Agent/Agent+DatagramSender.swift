import ClusterWire
import Logging
import NIOCore

extension Agent {
    /// Writes sealed datagrams to the UDP channel and reports the outcome to the core's
    /// counters. A failed send (no route yet, buffer full) is counted, never fatal: the
    /// protocol treats it like a lost datagram.
    struct DatagramSender: Sendable {
        let channel: any Channel
        let core: Core
        let logger: Logger

        func send(_ datagrams: [Outgoing]) async {
            guard !datagrams.isEmpty else { return }
            var futures: [EventLoopFuture<Void>] = []
            var unaddressable = 0
            for datagram in datagrams {
                guard let address = try? SocketAddress(ipAddress: datagram.destination.host, port: Int(datagram.destination.port)) else {
                    unaddressable += 1
                    logger.warning("cannot send to \(datagram.destination): not an IP address")
                    continue
                }
                let envelope = AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: datagram.bytes))
                futures.append(channel.write(envelope))
            }
            channel.flush()
            var failed = unaddressable
            for future in futures {
                do { try await future.get() } catch { failed += 1 }
            }
            await core.countSent(datagrams.count - failed, failed: failed)
        }
    }
}
