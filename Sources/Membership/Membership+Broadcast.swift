import ClusterWire

extension Membership {
    /// A member update waiting to be piggybacked, with how often it was sent so far.
    struct Broadcast: Hashable, Sendable {
        var update: Wire.MemberUpdate
        var transmits = 0
        /// News about membership (a new member, a changed status or address, a refutation) as
        /// opposed to a load update: sent first, so a busy cluster's stream of load updates
        /// cannot delay a join or a death.
        var urgent = false

        /// Whether this one goes out before `other`: news first, then the least sent, then by
        /// node id (so the choice is deterministic).
        func precedes(_ other: Broadcast) -> Bool {
            if urgent != other.urgent { return urgent }
            if transmits != other.transmits { return transmits < other.transmits }
            return update.node < other.update.node
        }
    }
}
