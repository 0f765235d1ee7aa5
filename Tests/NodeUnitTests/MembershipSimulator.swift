import ClusterWire
@testable import Membership
import Testing

/// A fake in-memory network and clock driving a set of ``Membership/State``s: every `step` the
/// clock advances, datagrams due are delivered as `.received` events, and every node whose
/// ``Membership/State/nextDeadline`` has come ticks.
/// Datagrams go through the wire encoding, can be lost at `lossRate`, and cross partition
/// groups only when the groups match.
final class MembershipSimulator {
    struct Packet {
        var deliverAt: Membership.Instant
        var from: Wire.NodeID
        var source: Wire.Address
        var to: Wire.Address
        /// The node the datagram is sealed for; as the agent's opener does, a node drops the
        /// packets sealed for another (``Wire/NodeID/anyRecipient`` only on joins).
        var recipient: Wire.NodeID
        var message: Wire.Message
    }

    struct Observation {
        var at: Membership.Instant
        var observer: Wire.NodeID
        var member: Membership.Member
    }

    var nodes: [Wire.NodeID: Membership.State] = [:]
    var group: [Wire.NodeID: Int] = [:]
    var lossRate = 0.0
    var now = Membership.Instant.zero
    var step: Duration = .milliseconds(5)
    var latency: Duration = .milliseconds(1)
    var inFlight: [Packet] = []
    var changes: [Observation] = []
    var random = Membership.RandomSource(seed: 99)
    var datagrams = 0
    var restarts = 0
    var configuration = Membership.Configuration()

    static func id(_ index: Int) -> Wire.NodeID { Wire.NodeID(UInt64(1000 + index)) }
    static func address(_ index: Int) -> Wire.Address { Wire.Address(host: "10.0.\(index / 250).\(index % 250 + 1)", port: 7946) }
    static func index(of address: Wire.Address) -> Int? {
        let parts = address.host.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 4 else { return nil }
        return parts[2] * 250 + parts[3] - 1
    }

    /// Starts node `index` (fresh state, incarnation 0) and has it join through node `seed`.
    func start(_ index: Int, seed: Int = 0) {
        let id = Self.id(index)
        var state = Membership.State(
            me: id, address: Self.address(index),
            load: Wire.NodeLoad(cpus: UInt16(index + 1), cpuMHz: 2400, agentVersion: "test"),
            seed: UInt64(index) &* 7919 &+ UInt64(restarts) &* 104_729 &+ 1, configuration: configuration
        )
        restarts += 1
        let actions = state.handle(.join(seeds: [Self.address(seed)]), now: now)
        nodes[id] = state
        dispatch(actions, from: id)
    }

    /// Stops node `index` silently, as a crash or power loss would.
    func stop(_ index: Int) {
        nodes[Self.id(index)] = nil
    }

    func inject(_ event: Membership.Event, into index: Int) {
        let id = Self.id(index)
        guard var state = nodes[id] else { return }
        let actions = state.handle(event, now: now)
        nodes[id] = state
        dispatch(actions, from: id)
    }

    func dispatch(_ actions: [Membership.Action], from id: Wire.NodeID) {
        guard let source = nodes[id]?.address else { return }
        for action in actions {
            switch action {
            case .send(let message, let to, let recipient):
                datagrams += 1
                if lossRate > 0, Double(random.next() >> 11) / Double(1 << 53) < lossRate { continue }
                let decoded = try? Wire.Message.decode(message.encoded())
                #expect(decoded == message)
                inFlight.append(Packet(deliverAt: now + latency, from: id, source: source, to: to, recipient: recipient, message: message))
            case .memberChanged(let member):
                changes.append(Observation(at: now, observer: id, member: member))
            case .refuted:
                break
            }
        }
    }

    /// One step: deliver what is due, then tick every node.
    func advance() {
        now = now + step
        let due = inFlight.filter { $0.deliverAt <= now }
        inFlight.removeAll { $0.deliverAt <= now }
        for packet in due {
            guard let index = Self.index(of: packet.to) else { continue }
            let target = Self.id(index)
            guard packet.recipient == target || (packet.recipient == .anyRecipient && packet.message.kind == .join) else { continue }
            guard var state = nodes[target], group[target, default: 0] == group[packet.from, default: 0] else { continue }
            let actions = state.handle(.received(packet.message, from: packet.from, address: packet.source), now: now)
            nodes[target] = state
            dispatch(actions, from: target)
        }
        for id in nodes.keys.sorted() {
            // Like the agent, a node ticks only when a timer is due.
            guard var state = nodes[id], state.nextDeadline.map({ $0 <= now }) ?? true else { continue }
            let actions = state.handle(.tick, now: now)
            nodes[id] = state
            dispatch(actions, from: id)
        }
    }

    func run(for duration: Duration) {
        let end = now + duration
        while now < end { advance() }
    }

    /// Runs until `condition` holds or `limit` passes; returns how long it took, or nil.
    func run(upTo limit: Duration, until condition: (MembershipSimulator) -> Bool) -> Duration? {
        let start = now
        while now < start + limit {
            if condition(self) { return now - start }
            advance()
        }
        return condition(self) ? now - start : nil
    }

    /// Every running node knows every other running node as alive, and nothing else as live.
    func converged() -> Bool {
        let running = Set(nodes.keys)
        return nodes.values.allSatisfy { state in
            let live = Set(state.liveMembers)
            return live == running.subtracting([state.me])
                && live.allSatisfy { state.members[$0]?.status == .alive }
        }
    }

    /// Every running node other than `index` sees `index` in `status`.
    func everyoneSees(_ index: Int, as status: Wire.MemberStatus, where extra: (Membership.Member) -> Bool = { _ in true }) -> Bool {
        let id = Self.id(index)
        return nodes.values.filter { $0.me != id }.allSatisfy { state in
            guard let member = state.members[id] else { return false }
            return member.status == status && extra(member)
        }
    }

    /// Starts `count` nodes at once, all joining through node 0, and waits for a full view.
    func startCluster(_ count: Int) -> Duration? {
        for index in 0..<count { start(index) }
        return run(upTo: .seconds(10)) { $0.converged() }
    }
}
