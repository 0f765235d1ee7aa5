import ClusterWire
@testable import Membership
import Testing

/// Single-node behaviour: answers, relays, precedence and parameter scaling.
@Suite struct MembershipStateTests {
    static let me = Wire.NodeID(1)
    static let peer = Wire.Address(host: "10.0.0.2", port: 7946)

    static func update(_ node: UInt64, _ incarnation: UInt64, _ status: Wire.MemberStatus) -> Wire.MemberUpdate {
        Wire.MemberUpdate(node: Wire.NodeID(node), incarnation: incarnation, status: status,
                          address: Wire.Address(host: "10.0.0.\(node)", port: 7946), load: Wire.NodeLoad())
    }

    func node() -> Membership.State {
        Membership.State(me: Self.me, address: Wire.Address(host: "10.0.0.1", port: 7946), seed: 1)
    }

    @Test func membershipNewsIsPiggybackedBeforeLoadUpdates() {
        var state = node()
        _ = state.piggyback()
        // Twenty members whose loads keep changing, then one newcomer.
        for node in 2...21 {
            _ = state.handle(.received(.gossip(updates: [Self.update(UInt64(node), 0, .alive)]), from: Wire.NodeID(UInt64(node)), address: Self.peer), now: .zero)
        }
        for _ in 0..<40 { _ = state.piggyback() }  // the joins went out as often as they should
        for node in 2...21 {
            var load = Self.update(UInt64(node), 1, .alive)
            load.load.loadMilli = 1000
            _ = state.handle(.received(.gossip(updates: [load]), from: Wire.NodeID(UInt64(node)), address: Self.peer), now: .zero)
        }
        _ = state.handle(.received(.join(Self.update(99, 0, .alive)), from: Wire.NodeID(99), address: Self.peer), now: .zero)
        #expect(state.piggyback().first?.node == Wire.NodeID(99), "the newcomer goes first, ahead of 20 fresh load updates")
        // A load update about the newcomer before its news went out stays urgent.
        _ = state.handle(.received(.join(Self.update(100, 0, .alive)), from: Wire.NodeID(100), address: Self.peer), now: .zero)
        var load = Self.update(100, 1, .alive)
        load.load.loadMilli = 500
        _ = state.handle(.received(.gossip(updates: [load]), from: Wire.NodeID(100), address: Self.peer), now: .zero)
        #expect(state.piggyback().prefix(2).map(\.node).contains(Wire.NodeID(100)))
    }

    /// Updates that carry labels are larger: a datagram's updates stop at the byte budget (the
    /// rest go in the next), so eight of them do not push it past the MTU.
    @Test func piggybackedUpdatesStayUnderTheByteBudget() {
        var state = node()
        _ = state.piggyback()
        let labels = Dictionary(uniqueKeysWithValues: (0..<8).map { ("label-key-\($0)", String(repeating: "v", count: 50)) })
        for node in 2...9 {
            var update = Self.update(UInt64(node), 0, .alive)
            update.load.labels = labels
            _ = state.handle(.received(.gossip(updates: [update]), from: Wire.NodeID(UInt64(node)), address: Self.peer), now: .zero)
        }
        let sent = state.piggyback()
        let bytes = sent.map(Wire.Message.encodedSize(of:)).reduce(0, +)
        #expect(sent.count >= 1 && sent.count < 8 && bytes <= state.configuration.piggybackBytes, "\(sent.count) updates, \(bytes) bytes")
        #expect(Set(state.piggyback().map(\.node)).subtracting(sent.map(\.node)).count > 0, "the rest go in the next datagram")
    }

    @Test func nextDeadlineIsThePeriodTheProbeTimeoutOrASuspicion() {
        var state = node()
        #expect(state.nextDeadline == nil, "never ticked: tick now")
        _ = state.handle(.tick, now: .zero)
        #expect(state.nextDeadline == .zero + .milliseconds(200), "alone: the next period")
        _ = state.handle(.received(.gossip(updates: [Self.update(2, 0, .alive)]), from: Wire.NodeID(2), address: Self.peer), now: .zero)
        _ = state.handle(.tick, now: .zero + .milliseconds(200))
        #expect(state.nextDeadline == .zero + .milliseconds(300), "a probe is out: its timeout")
        _ = state.handle(.received(.gossip(updates: [Self.update(3, 0, .suspect)]), from: Wire.NodeID(2), address: Self.peer),
                         now: .zero + .milliseconds(250))
        _ = state.handle(.tick, now: .zero + .milliseconds(300))
        _ = state.handle(.tick, now: .zero + .milliseconds(400))
        // Period at 600 ms; node 3's suspicion (1 s from 250 ms) runs out later.
        #expect(state.nextDeadline == .zero + .milliseconds(500) || state.nextDeadline == .zero + .milliseconds(600))
        for step in 5...15 { _ = state.handle(.tick, now: .zero + .milliseconds(step * 100)) }
        #expect(state.members[Wire.NodeID(3)]?.status == .dead)
    }

    @Test func pingIsAnsweredWithAckOfTheSameProbe() {
        var state = node()
        let actions = state.handle(.received(.ping(probe: 77, updates: [Self.update(2, 0, .alive)]), from: Wire.NodeID(2), address: Self.peer), now: .zero)
        let acks = actions.compactMap { action -> UInt32? in
            if case .send(.ack(let probe, _), let to, Wire.NodeID(2)) = action, to == Self.peer { return probe }
            return nil
        }
        #expect(acks == [77])
    }

    @Test func pingReqIsRelayedAndTheAckForwarded() throws {
        var state = node()
        let target = Wire.Address(host: "10.0.0.3", port: 7946)
        let out = state.handle(.received(.pingReq(probe: 5, target: Wire.NodeID(3), address: target, updates: [Self.update(2, 0, .alive)]),
                                         from: Wire.NodeID(2), address: Self.peer), now: .zero)
        let relayedProbe = try #require(out.compactMap { action -> UInt32? in
            if case .send(.ping(let probe, _), let to, Wire.NodeID(3)) = action, to == target { return probe }
            return nil
        }.first)
        let back = state.handle(.received(.ack(probe: relayedProbe, updates: []), from: Wire.NodeID(3), address: target),
                                now: .zero + .milliseconds(2))
        #expect(back.contains { action in
            if case .send(.ack(5, _), Self.peer, Wire.NodeID(2)) = action { return true }
            return false
        })
    }

    @Test func joinIsAnsweredWithTheFullView() {
        var state = node()
        _ = state.handle(.received(.gossip(updates: [Self.update(3, 0, .alive), Self.update(4, 2, .dead)]),
                                   from: Wire.NodeID(3), address: Self.peer), now: .zero)
        let out = state.handle(.received(.join(Self.update(2, 0, .alive)), from: Wire.NodeID(2), address: Self.peer), now: .zero)
        let replied = out.flatMap { action -> [Wire.NodeID] in
            if case .send(.gossip(let updates), Self.peer, Wire.NodeID(2)) = action { return updates.map(\.node) }
            return []
        }
        #expect(Set(replied) == [Self.me, Wire.NodeID(2), Wire.NodeID(3), Wire.NodeID(4)])
    }

    @Test func ownBroadcastJoinIsIgnored() {
        var state = node()
        let out = state.handle(.received(.join(state.selfUpdate), from: Self.me, address: state.address), now: .zero)
        #expect(out.isEmpty)
    }

    @Test func staleUpdatesAreIgnored() {
        var state = node()
        _ = state.handle(.received(.gossip(updates: [Self.update(3, 5, .alive)]), from: Wire.NodeID(3), address: Self.peer), now: .zero)
        let out = state.handle(.received(.gossip(updates: [Self.update(3, 4, .dead)]), from: Wire.NodeID(3), address: Self.peer), now: .zero)
        #expect(out.allSatisfy { if case .memberChanged = $0 { false } else { true } })
        #expect(state.members[Wire.NodeID(3)]?.status == .alive)
    }

    @Test func suspicionOfSelfRaisesTheIncarnationAndAnswersTheSender() {
        var state = node()
        let out = state.handle(.received(.gossip(updates: [Self.update(2, 0, .alive), Self.update(1, 0, .suspect)]),
                                         from: Wire.NodeID(2), address: Self.peer), now: .zero)
        #expect(state.incarnation == 1)
        #expect(out.contains(.send(.gossip(updates: [state.selfUpdate]), to: Self.peer, recipient: Wire.NodeID(2))))
        #expect(out.contains(.refuted), "the agent starts a new wire session")
    }

    @Test func localLoadIsPublishedUnderANewIncarnation() {
        var state = node()
        _ = state.handle(.localLoadChanged(Wire.NodeLoad(cpus: 8)), now: .zero)
        #expect(state.incarnation == 1)
        #expect(state.broadcasts[Self.me]?.update.load.cpus == 8)
    }

    @Test(arguments: [(1, 1000), (5, 1000), (16, 1000), (20, 1250), (100, 1750), (1000, 2500)])
    func suspicionTimeoutScalesWithLogN(members: Int, milliseconds: Int64) {
        #expect(Membership.Configuration().suspicionTimeout(memberCount: members) == .milliseconds(milliseconds))
    }

    @Test(arguments: [(1, 2), (5, 6), (20, 10), (100, 14)])
    func retransmitLimitScalesWithLogN(members: Int, limit: Int) {
        #expect(Membership.Configuration().retransmitLimit(memberCount: members) == limit)
    }
}
