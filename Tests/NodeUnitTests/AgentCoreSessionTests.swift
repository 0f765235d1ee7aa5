import ClusterWire
import Foundation
import Logging
import Membership
import NodeConfig
import Testing
@testable import Agent

/// The agent core seals each datagram for its recipient, and starts a new wire session when
/// it refutes a claim about itself (at most once per ``Agent/Core/sessionRenewalInterval``), so
/// a replay window a key holder pushed ahead heals by itself. No sockets: datagrams in and out
/// are byte arrays.
@Suite struct AgentCoreSessionTests {
    static let key = Array(0..<32).map { UInt8($0) }
    static let me = Wire.NodeID(1)
    static let peer = Wire.NodeID(2)
    static let peerAddress = Wire.Address(host: "10.0.0.2", port: 7946)

    /// Session ids 0x5E55_1011, 0x5E55_1012, ...
    final class Sessions: @unchecked Sendable {
        private var next = UInt64(0x5E55_1011)
        private let lock = NSLock()
        func nextID() -> UInt64 {
            lock.withLock {
                defer { next += 1 }
                return next
            }
        }
    }

    func core(now: Membership.Instant = .zero) throws -> Agent.Core {
        let sessions = Sessions()
        let settings = Agent.Settings(
            nodeID: Self.me, hostname: "node1", clusterName: "test", role: .node, listenHost: "0.0.0.0", port: 7946,
            advertiseHost: nil, interfaceMAC: nil, peers: [], multicastGroup: nil, clusterKey: Self.key,
            controlSocket: "/nonexistent/control.sock", controlGroup: nil, membership: Membership.Configuration(), report: [])
        return try Agent.Core(
            settings: settings, address: Wire.Address(host: "10.0.0.1", port: 7946), load: Wire.NodeLoad(), now: now,
            seed: 1, logger: Logger(label: "test"), sessionIDs: { sessions.nextID() })
    }

    /// A member update about node `id` at `incarnation`.
    static func update(_ id: UInt64, _ incarnation: UInt64, _ status: Wire.MemberStatus) -> Wire.MemberUpdate {
        Wire.MemberUpdate(node: Wire.NodeID(id), incarnation: incarnation, status: status,
                          address: Wire.Address(host: "10.0.0.\(id)", port: 7946), load: Wire.NodeLoad())
    }

    static func header(_ bytes: [UInt8]) -> (recipient: UInt64, session: UInt64, sequence: UInt64) {
        func u64(_ offset: Int) -> UInt64 { bytes[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        return (u64(12), u64(20), u64(28))
    }

    @Test func repliesAreSealedForTheMemberAndRefutationsRenewTheSessionRateLimited() async throws {
        let core = try core()
        var peer = Wire.Sealer(keys: try Wire.Keys(clusterKey: Self.key), sender: Self.peer, session: 9)
        func suspicion(_ incarnation: UInt64, at seconds: Int64) async throws -> [Agent.Outgoing] {
            let datagram = try peer.seal(
                .ping(probe: UInt32(incarnation) + 1, updates: [Self.update(2, 0, .alive), Self.update(1, incarnation, .suspect)]),
                to: Self.me)
            return await core.receive(datagram, from: Wire.Address(host: "10.9.9.9", port: 1), now: .zero + .seconds(seconds))
        }

        // Within 10 s of the start: refuted, but the session is only seconds old.
        let early = try await suspicion(0, at: 1)
        #expect(!early.isEmpty)
        #expect(early.allSatisfy { $0.destination == Self.peerAddress }, "answered at the member's address, not the source")
        #expect(early.allSatisfy { Self.header($0.bytes).recipient == Self.peer.rawValue })
        #expect(early.allSatisfy { Self.header($0.bytes).session == 0x5E55_1011 })

        // Later: the refutation starts a new session, numbered from 1.
        let later = try await suspicion(1, at: 20)
        let session = try #require(later.first.map { Self.header($0.bytes).session })
        #expect(session == 0x5E55_1012)
        #expect(Self.header(later[0].bytes).sequence == 1)
        #expect(await core.status(now: .zero + .seconds(20)).counters.sessionsStarted == 1)

        // A second refutation 5 s later keeps it.
        let again = try await suspicion(2, at: 25)
        #expect(again.allSatisfy { Self.header($0.bytes).session == session })
        #expect(await core.status(now: .zero + .seconds(25)).counters.sessionsStarted == 1)
    }

    @Test func outOfBoundIncarnationsAreCountedInTheStatus() async throws {
        let core = try core()
        var peer = Wire.Sealer(keys: try Wire.Keys(clusterKey: Self.key), sender: Self.peer, session: 9)
        let datagram = try peer.seal(.gossip(updates: [Self.update(1, .max, .alive), Self.update(3, .max, .dead)]), to: Self.me)
        _ = await core.receive(datagram, from: Self.peerAddress, now: .zero)
        let counters = await core.status(now: .zero).counters
        #expect(counters.membershipDropped["incarnationOutOfBounds"] == 2)
        #expect(counters.accepted == 1)
    }
}
