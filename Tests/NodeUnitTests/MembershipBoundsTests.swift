import ClusterWire
@testable import Membership
import Testing

/// Incarnations from peers are bounded and all arithmetic on them saturates: no update can trap
/// a node or pin a member at an incarnation its real updates never beat.
@Suite struct MembershipBoundsTests {
    static let me = Wire.NodeID(1)
    static let peer = Wire.NodeID(2)

    static func update(_ node: UInt64, _ incarnation: UInt64, _ status: Wire.MemberStatus) -> Wire.MemberUpdate {
        Wire.MemberUpdate(node: Wire.NodeID(node), incarnation: incarnation, status: status,
                          address: Wire.Address(host: "10.0.0.\(node)", port: 7946), load: Wire.NodeLoad())
    }

    func node(incarnation: UInt64 = 0) -> Membership.State {
        Membership.State(me: Self.me, address: Wire.Address(host: "10.0.0.1", port: 7946), incarnation: incarnation, seed: 1)
    }

    func gossip(_ updates: Wire.MemberUpdate..., to state: inout Membership.State) -> [Membership.Action] {
        state.handle(.received(.gossip(updates: [Self.update(2, 0, .alive)] + updates), from: Self.peer,
                               address: Wire.Address(host: "10.0.0.2", port: 7946)), now: .zero)
    }

    @Test(arguments: [Wire.MemberStatus.alive, .suspect, .dead])
    func maximalIncarnationAboutSelfIsDroppedAndCounted(status: Wire.MemberStatus) {
        var state = node()
        let out = gossip(Self.update(1, .max, status), to: &state)
        #expect(state.incarnation == 0)
        #expect(state.counters.incarnationOutOfBounds == 1)
        #expect(!out.contains(.refuted))
        // The same in a join reply, the path that crashed a restarted agent again on rejoining.
        _ = state.handle(.received(.gossip(updates: [Self.update(1, .max - 1, status)]), from: Self.peer,
                                   address: Wire.Address(host: "10.0.0.2", port: 7946)), now: .zero)
        #expect(state.incarnation == 0)
        #expect(state.counters.incarnationOutOfBounds == 2)
    }

    @Test(arguments: [Wire.MemberStatus.alive, .suspect, .dead])
    func maximalIncarnationAboutAnotherMemberIsDroppedAndCounted(status: Wire.MemberStatus) {
        var state = node()
        _ = gossip(Self.update(3, .max, status), Self.update(4, Membership.Incarnation.ceiling, status), to: &state)
        #expect(state.members[Wire.NodeID(3)] == nil)
        #expect(state.members[Wire.NodeID(4)] == nil)
        #expect(state.counters.incarnationOutOfBounds == 2)
        #expect(state.broadcasts[Wire.NodeID(3)] == nil, "nothing of it is passed on")
    }

    @Test func aKnownMemberMayAdvanceOnlyWithinTheBound() {
        var state = node()
        _ = gossip(Self.update(3, 5, .alive), to: &state)
        _ = gossip(Self.update(3, 5 + Membership.Incarnation.maxAdvance + 1, .dead), to: &state)
        #expect(state.members[Wire.NodeID(3)]?.status == .alive)
        #expect(state.counters.incarnationOutOfBounds == 1)
        _ = gossip(Self.update(3, 5 + Membership.Incarnation.maxAdvance, .alive), to: &state)
        #expect(state.members[Wire.NodeID(3)]?.incarnation == 5 + Membership.Incarnation.maxAdvance)
        #expect(state.counters.incarnationOutOfBounds == 1)
    }

    /// A key holder's "suspect X at 2⁵⁶−2" once X has caught up: refuting it would put X at the
    /// top, where every peer drops X's updates as too big a jump. Within the first minute a
    /// restarted node still catches up with whatever the cluster remembers.
    @Test func afterCatchingUpAClaimAboutSelfMayAdvanceOnlyWithinTheBound() {
        var state = node()
        let address = Wire.Address(host: "10.0.0.2", port: 7946)
        _ = state.handle(.received(.gossip(updates: [Self.update(1, 1_000, .suspect)]), from: Self.peer, address: address), now: .zero)
        #expect(state.incarnation == 1_001, "caught up at start")
        let later = Membership.Instant.zero + .seconds(61)
        let out = state.handle(.received(.gossip(updates: [Self.update(1, Membership.Incarnation.ceiling - 2, .suspect)]),
                                         from: Self.peer, address: address), now: later)
        #expect(state.incarnation == 1_001, "the forged suspicion is dropped, not refuted at the top")
        #expect(state.counters.incarnationOutOfBounds == 1 && !out.contains(.refuted))
        _ = state.handle(.received(.gossip(updates: [Self.update(1, 1_001, .suspect)]), from: Self.peer, address: address), now: later)
        #expect(state.incarnation == 1_002, "a real suspicion is still refuted")
    }

    @Test func restartedNodeRefutesAHigherIncarnationFromAJoinReply() {
        // Far above the per-update advance: claims about oneself are bounded by the ceiling only.
        let remembered = 3 * Membership.Incarnation.maxAdvance
        var state = node()
        let out = state.handle(.received(.gossip(updates: [Self.update(2, 0, .alive), Self.update(1, remembered, .dead)]),
                                         from: Self.peer, address: Wire.Address(host: "10.0.0.2", port: 7946)), now: .zero)
        #expect(state.incarnation == remembered + 1)
        #expect(out.contains(.refuted))
        #expect(state.counters.incarnationOutOfBounds == 0)
        // Another node that remembers the old death accepts the refutation.
        var other = Membership.State(me: Wire.NodeID(2), address: Wire.Address(host: "10.0.0.2", port: 7946), seed: 2)
        _ = other.handle(.received(.gossip(updates: [Self.update(1, remembered, .dead)]), from: Wire.NodeID(3),
                                   address: Wire.Address(host: "10.0.0.3", port: 7946)), now: .zero)
        _ = other.handle(.received(.gossip(updates: [state.selfUpdate]), from: Self.me, address: state.address), now: .zero)
        #expect(other.members[Self.me]?.status == .alive)
    }

    @Test func refutationSaturatesBelowTheCeilingAndStillWins() {
        let top = Membership.Incarnation.ceiling - 1
        var state = node()
        // The highest suspicion anyone accepts is refuted with the highest alive anyone accepts.
        _ = gossip(Self.update(1, top - 1, .suspect), to: &state)
        #expect(state.incarnation == top)
        var other = Membership.State(me: Wire.NodeID(2), address: Wire.Address(host: "10.0.0.2", port: 7946), seed: 2)
        _ = other.handle(.received(.gossip(updates: [Self.update(1, top - 1, .suspect)]), from: Wire.NodeID(3),
                                   address: Wire.Address(host: "10.0.0.3", port: 7946)), now: .zero)
        _ = other.handle(.received(.gossip(updates: [state.selfUpdate]), from: Self.me, address: state.address), now: .zero)
        #expect(other.members[Self.me]?.status == .alive)
        #expect(other.members[Self.me]?.incarnation == top)
        // A suspicion it could not beat is not accepted by anyone.
        _ = gossip(Self.update(1, top, .suspect), to: &state)
        #expect(state.counters.incarnationOutOfBounds == 1)
        _ = other.handle(.received(.gossip(updates: [Self.update(1, top, .suspect)]), from: Wire.NodeID(3),
                                   address: Wire.Address(host: "10.0.0.3", port: 7946)), now: .zero)
        #expect(other.members[Self.me]?.status == .alive)
        // Publishing a load at the top saturates instead of trapping.
        _ = state.handle(.localLoadChanged(Wire.NodeLoad(cpus: 4)), now: .zero)
        #expect(state.incarnation == top)
    }

    @Test func aNodeStartedAtAnAbsurdIncarnationIsClampedAndDoesNotTrap() {
        var state = node(incarnation: .max)
        #expect(state.incarnation == Membership.Incarnation.ceiling - 1)
        _ = state.handle(.localLoadChanged(Wire.NodeLoad(cpus: 2)), now: .zero)
        #expect(state.incarnation == Membership.Incarnation.ceiling - 1)
    }
}
