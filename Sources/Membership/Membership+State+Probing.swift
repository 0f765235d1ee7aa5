import ClusterWire

extension Membership.State {
    /// Timeouts and the start of each protocol period.
    mutating func tick(now: Membership.Instant) -> [Membership.Action] {
        var actions: [Membership.Action] = []

        // Suspects whose timer ran out are declared dead.
        let timeout = configuration.suspicionTimeout(memberCount: clusterSize)
        for (id, started) in suspicionStarted.sorted(by: { $0.key < $1.key }) where now >= started + timeout {
            suspicionStarted[id] = nil
            guard let member = members[id], member.status == .suspect else { continue }
            var dead = member.update
            dead.status = .dead
            actions += apply(dead, now: now)
        }

        // Direct probe unanswered: ask k others to probe the target.
        if var current = probe, !current.acked, !current.indirectSent,
           now >= current.sentAt + configuration.probeTimeout {
            current.indirectSent = true
            probe = current
            if let target = members[current.target] {
                let helpers = randomLiveMembers(count: configuration.indirectProbes, excluding: [current.target])
                for helper in helpers {
                    guard let helperAddress = members[helper]?.address else { continue }
                    actions.append(.send(.pingReq(
                        probe: current.number, target: current.target, address: target.address,
                        updates: piggyback()
                    ), to: helperAddress, recipient: helper))
                }
            }
        }

        guard periodStart.map({ now >= $0 + configuration.protocolPeriod }) ?? true else {
            return actions
        }
        periodStart = now

        // The previous period's probe failed: suspect the target.
        if let previous = probe, !previous.acked, let member = members[previous.target], member.status == .alive {
            var suspect = member.update
            suspect.status = .suspect
            actions += apply(suspect, now: now)
        }
        probe = nil

        if let target = nextProbeTarget(), let member = members[target] {
            let number = takeProbeNumber()
            probe = Membership.Probe(target: target, number: number, sentAt: now)
            actions.append(.send(.ping(probe: number, updates: piggyback()), to: member.address, recipient: target))
        }

        if !broadcasts.isEmpty {
            for id in randomLiveMembers(count: configuration.gossipFanout, excluding: []) {
                guard let member = members[id] else { continue }
                let updates = piggyback()
                if updates.isEmpty { break }
                actions.append(.send(.gossip(updates: updates), to: member.address, recipient: id))
            }
        }

        if clusterSize == 1, !seeds.isEmpty,
           lastJoinSent.map({ now >= $0 + configuration.joinRetryInterval }) ?? true {
            actions += sendJoin(now: now)
        }

        let dead = members.values.filter { $0.status == .dead }.map(\.id).sorted()
        if !dead.isEmpty, lastReconnect.map({ now >= $0 + configuration.reconnectInterval }) ?? true {
            lastReconnect = now
            if let id = dead.randomElement(using: &random), let member = members[id] {
                actions.append(.send(.join(selfUpdate), to: member.address, recipient: id))
            }
        }

        relays = relays.filter { $0.value.expires > now }
        for member in members.values where member.status == .dead && now >= member.since + configuration.deadRetention {
            members[member.id] = nil
            broadcasts[member.id] = nil
        }
        return actions
    }

    /// The next member to probe: SWIM's round robin over a freshly shuffled list, which bounds the
    /// time until any given member is probed by this node to two rounds.
    mutating func nextProbeTarget() -> Wire.NodeID? {
        for _ in 0..<2 {
            while !probeOrder.isEmpty {
                let id = probeOrder.removeFirst()
                if let member = members[id], member.status != .dead { return id }
            }
            probeOrder = liveMembers.shuffled(using: &random)
        }
        return nil
    }

    /// Up to `count` random live members.
    mutating func randomLiveMembers(count: Int, excluding: Set<Wire.NodeID>) -> [Wire.NodeID] {
        Array(liveMembers.filter { !excluding.contains($0) }.shuffled(using: &random).prefix(count))
    }

    mutating func takeProbeNumber() -> UInt32 {
        let number = nextProbeNumber
        nextProbeNumber &+= 1
        if nextProbeNumber == 0 { nextProbeNumber = 1 }
        return number
    }
}
