import Synchronization

extension Agent {
    /// How many streams the peer server holds at once: before authentication (per source
    /// address and in all, so a flood of connection attempts from anywhere on the LAN is closed
    /// at once instead of holding the agent's descriptors) and after it (per member, per source
    /// address and in all, so a key holder's streams cannot take all the memory, each holding
    /// at most one frame, nor, by claiming several node ids from one host, every slot).
    struct StreamAdmission: Sendable, Equatable {
        struct Limits: Sendable, Equatable {
            var pendingTotal = 64
            /// Loopback clusters put every agent behind 127.0.0.1: room for them all to ask at once.
            var pendingPerSource = 16
            var establishedTotal = 64
            var establishedPerPeer = 16
            /// A host runs one agent; loopback clusters, every agent: as many as per peer.
            var establishedPerSource = 16
        }

        var limits = Limits()
        private(set) var pending: [String: Int] = [:]
        private(set) var pendingCount = 0
        private(set) var established: [UInt64: Int] = [:]
        private(set) var establishedFrom: [String: Int] = [:]
        private(set) var establishedCount = 0

        /// Why a stream was not admitted (the counter's name in `cluster status`).
        enum Refusal: String, Sendable, Equatable {
            case tooManyPending, tooManyPendingFromSource, tooManyStreams, tooManyStreamsFromPeer, tooManyStreamsFromSource
        }

        /// A new connection from `source`, before its handshake.
        mutating func admit(source: String) -> Refusal? {
            guard pendingCount < limits.pendingTotal else { return .tooManyPending }
            guard pending[source, default: 0] < limits.pendingPerSource else { return .tooManyPendingFromSource }
            pending[source, default: 0] += 1
            pendingCount += 1
            return nil
        }

        /// The connection from `source` finished its handshake as `peer` (or ended: `peer` nil).
        mutating func authenticated(source: String, peer: UInt64?) -> Refusal? {
            release(pendingFrom: source)
            guard let peer else { return nil }
            guard establishedCount < limits.establishedTotal else { return .tooManyStreams }
            guard established[peer, default: 0] < limits.establishedPerPeer else { return .tooManyStreamsFromPeer }
            guard establishedFrom[source, default: 0] < limits.establishedPerSource else { return .tooManyStreamsFromSource }
            established[peer, default: 0] += 1
            establishedFrom[source, default: 0] += 1
            establishedCount += 1
            return nil
        }

        mutating func release(pendingFrom source: String) {
            guard let count = pending[source] else { return }
            pending[source] = count > 1 ? count - 1 : nil
            pendingCount -= 1
        }

        mutating func release(peer: UInt64, source: String) {
            guard let count = established[peer] else { return }
            established[peer] = count > 1 ? count - 1 : nil
            if let fromSource = establishedFrom[source] { establishedFrom[source] = fromSource > 1 ? fromSource - 1 : nil }
            establishedCount -= 1
        }
    }

    /// ``StreamAdmission`` shared by the peer server's connection tasks.
    final class StreamGate: Sendable {
        private let state: Mutex<StreamAdmission>

        init(limits: StreamAdmission.Limits = .init()) {
            state = Mutex(StreamAdmission(limits: limits))
        }

        func admit(source: String) -> StreamAdmission.Refusal? {
            state.withLock { $0.admit(source: source) }
        }

        func authenticated(source: String, peer: UInt64?) -> StreamAdmission.Refusal? {
            state.withLock { $0.authenticated(source: source, peer: peer) }
        }

        func release(pendingFrom source: String) {
            state.withLock { $0.release(pendingFrom: source) }
        }

        func release(peer: UInt64, source: String) {
            state.withLock { $0.release(peer: peer, source: source) }
        }
    }
}
