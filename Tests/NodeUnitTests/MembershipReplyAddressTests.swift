import ClusterWire
@testable import Membership
import Testing

/// Answers go to the sender's authenticated member address, never to a datagram's UDP source,
/// so a recorded datagram replayed from elsewhere cannot make a node send to a third party.
@Suite struct MembershipReplyAddressTests {
    static let me = Wire.NodeID(1)
    static let peer = Wire.NodeID(2)
    static let known = Wire.Address(host: "10.0.0.2", port: 7946)
    /// Where a replayed datagram appears to come from.
    static let spoofed = Wire.Address(host: "10.9.9.9", port: 4444)

    static func update(_ node: UInt64, _ status: Wire.MemberStatus = .alive) -> Wire.MemberUpdate {
        Wire.MemberUpdate(node: Wire.NodeID(node), incarnation: 0, status: status,
                          address: Wire.Address(host: "10.0.0.\(node)", port: 7946), load: Wire.NodeLoad())
    }

    func node(knowing ids: [UInt64] = [2]) -> Membership.State {
        var state = Membership.State(me: Self.me, address: Wire.Address(host: "10.0.0.1", port: 7946), seed: 1)
        _ = state.handle(.received(.gossip(updates: ids.map { Self.update($0) }), from: Wire.NodeID(ids[0]),
                                   address: Wire.Address(host: "10.0.0.\(ids[0])", port: 7946)), now: .zero)
        return state
    }

    static func destinations(_ actions: [Membership.Action]) -> [Wire.Address] {
        actions.compactMap { if case .send(_, let to, _) = $0 { to } else { nil } }
    }

    @Test func pingFromAnotherSourceIsAnsweredAtTheKnownAddress() {
        var state = node()
        let out = state.handle(.received(.ping(probe: 9, updates: []), from: Self.peer, address: Self.spoofed), now: .zero)
        #expect(out.contains { if case .send(.ack(9, _), Self.known, Self.peer) = $0 { true } else { false } })
        #expect(!Self.destinations(out).contains(Self.spoofed))
    }

    @Test func pingFromASenderWithNoKnownAddressIsNotAnswered() {
        var state = node()
        let out = state.handle(.received(.ping(probe: 9, updates: []), from: Wire.NodeID(7), address: Self.spoofed), now: .zero)
        #expect(Self.destinations(out).isEmpty)
        #expect(state.counters.unknownReplyAddress == 1)
    }

    @Test func refutationGoesToTheKnownAddress() {
        var state = node()
        let out = state.handle(.received(.gossip(updates: [Self.update(1, .suspect)]), from: Self.peer, address: Self.spoofed),
                               now: .zero)
        #expect(state.incarnation == 1)
        #expect(out.contains(.send(.gossip(updates: [state.selfUpdate]), to: Self.known, recipient: Self.peer)))
        #expect(!Self.destinations(out).contains(Self.spoofed))
    }

    @Test func joinIsAnsweredAtTheAddressInTheJoin() {
        var state = node()
        let out = state.handle(.received(.join(Self.update(5)), from: Wire.NodeID(5), address: Self.spoofed), now: .zero)
        let destinations = Self.destinations(out)
        #expect(!destinations.isEmpty)
        #expect(destinations.allSatisfy { $0 == Wire.Address(host: "10.0.0.5", port: 7946) })
        #expect(out.allSatisfy { if case .send(_, _, let recipient) = $0 { recipient == Wire.NodeID(5) } else { true } })
    }

    @Test func joinAboutAnotherNodeIsDropped() {
        var state = node()
        let out = state.handle(.received(.join(Self.update(5)), from: Wire.NodeID(6), address: Self.spoofed), now: .zero)
        #expect(out.isEmpty)
        #expect(state.members[Wire.NodeID(5)] == nil)
        #expect(state.counters.mismatchedJoin == 1)
    }

    @Test func relayedAckGoesToTheRequestersKnownAddressAndOnlyForTheTarget() throws {
        var state = node(knowing: [2, 3])
        let target = Wire.Address(host: "10.0.0.3", port: 7946)
        let out = state.handle(.received(.pingReq(probe: 5, target: Wire.NodeID(3), address: Self.spoofed, updates: []),
                                         from: Self.peer, address: Self.spoofed), now: .zero)
        // The target's known address, not the one in the ping-req.
        let relayed = try #require(out.compactMap { action -> UInt32? in
            if case .send(.ping(let probe, _), target, Wire.NodeID(3)) = action { return probe }
            return nil
        }.first)
        let fromElsewhere = state.handle(.received(.ack(probe: relayed, updates: []), from: Wire.NodeID(4), address: target),
                                         now: .zero + .milliseconds(1))
        #expect(Self.destinations(fromElsewhere).isEmpty, "an ack from another node than the target is not relayed")
        let back = state.handle(.received(.ack(probe: relayed, updates: []), from: Wire.NodeID(3), address: Self.spoofed),
                                now: .zero + .milliseconds(2))
        #expect(back.contains { if case .send(.ack(5, _), Self.known, Self.peer) = $0 { true } else { false } })
        #expect(!Self.destinations(back).contains(Self.spoofed))
    }

    @Test func pingReqFromASenderWithNoKnownAddressIsNotRelayed() {
        var state = node()
        let out = state.handle(.received(.pingReq(probe: 5, target: Self.peer, address: Self.known, updates: []),
                                         from: Wire.NodeID(7), address: Self.spoofed), now: .zero)
        #expect(Self.destinations(out).isEmpty)
        #expect(state.counters.unknownReplyAddress == 1)
    }
}
