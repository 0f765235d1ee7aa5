#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterControl
import ClusterWire
import NIOCore
import Synchronization

extension Agent {
    /// Asks another member's agent one request over a secure stream.
    struct PeerClient: Sendable {
        let keys: Wire.Keys
        let me: Wire.NodeID
        /// Connecting, the handshake and the answer together; a member that does not answer in
        /// time is treated as unreachable for this request. Nil: the request's own
        /// (``Control/Request/forwardingTimeout``: a migration or a drain answers when it is done).
        var timeout: Duration?

        /// Whether a request left: a caller that must not repeat a request's effect (a job
        /// started twice) can tell a member that never got it from one that did not answer.
        final class Delivery: Sendable {
            let sent = Mutex(false)
            init() {}
            var wasSent: Bool { sent.withLock { $0 } }
        }

        /// Streams to one member at a time, at most: half the 16 a member takes from one source
        /// before authentication (Docs/security.md), so a burst of `cluster-sh` placements and
        /// their held `logs` requests queue here instead of being cut off there.
        static let streamsPerMember = 8
        static let slots = StreamSlots(limit: streamsPerMember)

        func ask(_ member: Wire.MemberUpdate, _ forwarded: PeerRequest, delivery: Delivery? = nil) async throws -> Control.Response {
            await Self.slots.acquire(member.node)
            defer { Task { await Self.slots.release(member.node) } }
            return try await askNow(member, forwarded, delivery: delivery)
        }

        private func askNow(_ member: Wire.MemberUpdate, _ forwarded: PeerRequest, delivery: Delivery?) async throws -> Control.Response {
            let timeout = timeout ?? forwarded.request.forwardingTimeout
            let address = member.address
            let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
            do {
                channel = try await StreamSocket.connect(to: address)
            } catch {
                throw Failure(.unreachable, "cannot reach \(member.load.hostname) at \(address): \(error)")
            }
            let deadline = channel.channel.eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
                channel.channel.close(promise: nil)
            }
            defer { deadline.cancel() }
            let keys = keys
            let me = me
            do {
                return try await channel.executeThenClose { inbound, outbound in
                    let stream = SecureStream(inbound: inbound, outbound: outbound)
                    let peer = try await stream.connect(as: Wire.Stream.Client(keys: keys, me: me))
                    guard peer == member.node else {
                        throw Failure(.unreachable, "\(address) answered as node \(peer), not \(member.node)")
                    }
                    let frame = Array(try JSONEncoder().encode(PeerFrame.request(forwarded)))
                    delivery?.sent.withLock { $0 = true }
                    try await stream.send(frame)
                    guard let payload = try await stream.receive() else {
                        throw Failure(.unreachable, "\(member.load.hostname) closed the stream without answering")
                    }
                    return try JSONDecoder().decode(Control.Response.self, from: Data(payload))
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure(.unreachable, "\(member.load.hostname) at \(address) did not answer: \(error)")
            }
        }
    }
}

extension Agent {
    /// Counts the streams open to each member and queues the rest, first come first served.
    actor StreamSlots {
        let limit: Int
        private var open: [Wire.NodeID: Int] = [:]
        private var waiting: [Wire.NodeID: [CheckedContinuation<Void, Never>]] = [:]

        init(limit: Int) {
            self.limit = limit
        }

        func acquire(_ member: Wire.NodeID) async {
            if open[member, default: 0] < limit {
                open[member, default: 0] += 1
                return
            }
            await withCheckedContinuation { waiting[member, default: []].append($0) }
        }

        /// Hands the slot to the next waiter, or frees it.
        func release(_ member: Wire.NodeID) {
            if var queue = waiting[member], !queue.isEmpty {
                let next = queue.removeFirst()
                waiting[member] = queue.isEmpty ? nil : queue
                next.resume()
                return
            }
            open[member, default: 1] -= 1
            if open[member] == 0 { open[member] = nil }
        }
    }
}
