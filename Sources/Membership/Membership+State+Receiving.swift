import ClusterWire

extension Membership.State {
    /// Handles one received message: applies its updates, then answers probes and relays.
    ///
    /// Every answer goes to an authenticated address: the sender's member address (learned
    /// from its updates, possibly in this very message), or for a join the address in the join.
    /// `source`, the UDP source, is not authenticated (a datagram between two members can be
    /// recorded and replayed from anywhere), so nothing is ever sent there; a request from a
    /// sender whose address is unknown goes unanswered and is counted.
    mutating func receive(
        _ message: Wire.Message, from sender: Wire.NodeID, source: Wire.Address, now: Membership.Instant
    ) -> [Membership.Action] {
        let incarnationBefore = incarnation
        var actions: [Membership.Action] = []
        if case .join(let joining) = message, joining.node != sender {
            counters.mismatchedJoin &+= 1
            return []
        }
        if firstReceived == nil { firstReceived = now }
        // Claims about ourselves are bounded by the ceiling only while we catch up after a start
        // (at 0 we must exceed whatever the cluster remembers); after that, like any member's,
        // by maxAdvance above our own, or one forged "suspect at 2⁵⁶−2" would push us to the
        // top, where every peer drops our updates as too big a jump.
        let catchingUp = now - (firstReceived ?? now) < Membership.Incarnation.selfCatchUp
        for update in message.updates {
            let known = update.node == me ? (catchingUp ? nil : incarnation) : members[update.node]?.incarnation
            guard Membership.Incarnation.acceptable(update, known: known) else {
                counters.incarnationOutOfBounds &+= 1
                continue
            }
            actions += apply(update, now: now)
        }
        let senderAddress = members[sender]?.address
        // We just refuted a suspicion (or a stale death): tell the sender directly as well, so a
        // node that believes us dead, and hence never probes us, learns it at once. (A join is
        // answered below with our update at the head of the reply.)
        if incarnation != incarnationBefore, message.kind != .join {
            if let senderAddress {
                actions.append(.send(.gossip(updates: [selfUpdate]), to: senderAddress, recipient: sender))
            } else {
                counters.unknownReplyAddress &+= 1
            }
        }

        switch message {
        case .ping(let number, _):
            guard let senderAddress else {
                counters.unknownReplyAddress &+= 1
                break
            }
            actions.append(.send(.ack(probe: number, updates: piggyback()), to: senderAddress, recipient: sender))
        case .pingReq(let originProbe, let target, let targetAddress, _):
            guard let senderAddress else {
                counters.unknownReplyAddress &+= 1
                break
            }
            guard target != me else { break }
            let number = takeProbeNumber()
            relays[number] = Membership.Relay(
                origin: sender, originAddress: senderAddress, target: target, originProbe: originProbe,
                expires: now + configuration.protocolPeriod
            )
            // The target's known address first; the ping-req's (authenticated) one for a member
            // this node has not heard of yet. Sealed for the target, so nobody else accepts it.
            let address = members[target]?.address ?? targetAddress
            actions.append(.send(.ping(probe: number, updates: piggyback()), to: address, recipient: target))
        case .ack(let number, _):
            if let relay = relays[number], relay.target == sender {
                relays[number] = nil
                actions.append(.send(
                    .ack(probe: relay.originProbe, updates: piggyback()), to: relay.originAddress, recipient: relay.origin
                ))
            } else if var current = probe, current.number == number {
                current.acked = true
                probe = current
            }
        case .gossip:
            break
        case .join(let joining):
            // Answer with the full view, dead members included, so a restarted node learns the
            // incarnation it must exceed; at the address the join itself names (authenticated,
            // and the only one a node new to us has).
            var all = [selfUpdate] + view.map(\.update)
            while !all.isEmpty {
                let chunk = Array(all.prefix(Self.joinReplyChunk))
                all.removeFirst(chunk.count)
                actions.append(.send(.gossip(updates: chunk), to: joining.address, recipient: sender))
            }
        }
        return actions
    }

    /// Updates per datagram in a join reply: ≈ 70–130 bytes each (address and host name are
    /// text), so 8 stay under a 1400-byte MTU.
    static let joinReplyChunk = 8

    /// Applies one update under SWIM's precedence rules; queues it for gossip if it was news.
    /// Received updates are checked against ``Membership/Incarnation``'s bounds before (in
    /// ``receive(_:from:source:now:)``); this node's own suspicions are not, so even a member
    /// pinned at the top by a forgery is still suspected, and declared dead, by its probers.
    mutating func apply(_ update: Wire.MemberUpdate, now: Membership.Instant) -> [Membership.Action] {
        if update.node == me {
            // Anyone saying we are suspect or dead, or quoting an incarnation above ours (we
            // restarted), is refuted with a higher incarnation. Within the bounds a received
            // suspicion is at most `ceiling - 2`, so there is always a higher one to refute it
            // with; `next(after:)` saturates, so nothing here can trap.
            if (update.status != .alive && update.incarnation >= incarnation) || update.incarnation > incarnation {
                incarnation = max(incarnation, Membership.Incarnation.next(after: update.incarnation))
                queue(selfUpdate, urgent: true)
                if update.status != .alive { return [.refuted] }
            }
            return []
        }
        if let existing = members[update.node], !update.overrides(existing.update) {
            return []
        }
        let previous = members[update.node]
        let member = Membership.Member(update: update, since: now)
        members[update.node] = member
        switch update.status {
        case .suspect:
            if suspicionStarted[update.node] == nil { suspicionStarted[update.node] = now }
        case .alive, .dead:
            suspicionStarted[update.node] = nil
        }
        queue(update, urgent: previous.map { $0.status != update.status || $0.address != update.address } ?? true)
        if update.status != .dead, previous.map({ $0.status == .dead }) ?? true {
            insertIntoProbeOrder(update.node)
        }
        // A node first heard of as already dead is remembered but not reported.
        if previous == nil && update.status == .dead { return [] }
        return [.memberChanged(member)]
    }

    /// Puts a member that just joined (or came back) at a random place in this round's probe
    /// order, as SWIM and memberlist do. Left out until the next reshuffle, a newcomer to 100
    /// nodes is probed by no one for seconds (each round lasts 100 periods), so its failure
    /// soon after joining went unnoticed for 3 s and more.
    mutating func insertIntoProbeOrder(_ id: Wire.NodeID) {
        guard !probeOrder.contains(id) else { return }
        let position = Int(random.next() % UInt64(probeOrder.count + 1))
        probeOrder.insert(id, at: position)
    }

    /// Queues an update for piggybacking, replacing any older one about the same node. Urgency
    /// sticks: a load update replacing unsent membership news still travels as news, but keeps
    /// the news's transmit count. Restarting the count made a node that publishes its load
    /// every second urgent for ever, and such entries crowded every other node's load updates
    /// out of the datagrams (found by the 1,000-node simulator: targets that had received 113
    /// jobs were still seen as running none).
    mutating func queue(_ update: Wire.MemberUpdate, urgent: Bool) {
        var broadcast = Membership.Broadcast(update: update, urgent: urgent)
        if !urgent, let previous = broadcasts[update.node], previous.urgent {
            broadcast.urgent = true
            broadcast.transmits = previous.transmits
        }
        broadcasts[update.node] = broadcast
    }

    /// Takes the queued updates for one outgoing datagram, membership news first, then the
    /// least-sent, dropping each update once it was sent
    /// ``Membership/Configuration/retransmitLimit(memberCount:)`` times.
    mutating func piggyback() -> [Wire.MemberUpdate] {
        let limit = configuration.retransmitLimit(memberCount: clusterSize)
        // The first few in order, without sorting the whole queue (called for every datagram,
        // with a queue as long as the cluster while a cluster forms).
        var chosen: [Membership.Broadcast] = []
        chosen.reserveCapacity(configuration.maxPiggyback + 1)
        for broadcast in broadcasts.values {
            guard chosen.count < configuration.maxPiggyback || broadcast.precedes(chosen[chosen.count - 1]) else { continue }
            let position = chosen.firstIndex { broadcast.precedes($0) } ?? chosen.count
            chosen.insert(broadcast, at: position)
            if chosen.count > configuration.maxPiggyback { chosen.removeLast() }
        }
        var updates: [Wire.MemberUpdate] = []
        var bytes = 0
        for var broadcast in chosen {
            // Labels make updates larger: a datagram stops below the MTU (the rest wait for the next).
            bytes += Wire.Message.encodedSize(of: broadcast.update)
            if !updates.isEmpty && bytes > configuration.piggybackBytes { break }
            updates.append(broadcast.update)
            broadcast.transmits += 1
            broadcasts[broadcast.update.node] = broadcast.transmits >= limit ? nil : broadcast
        }
        return updates
    }
}
