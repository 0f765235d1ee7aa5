import ClusterWire

extension Membership {
    /// A member update waiting to be piggybacked, with how often it was sent so far.
    struct Broadcast: Hashable, Sendable {
        var update: Wire.MemberUpdate
        var transmits = 0
    }
}
