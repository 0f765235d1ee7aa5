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
    }
}
