import ClusterControl

extension Agent {
    /// A control request forwarded from one agent to another over a secure stream, with the
    /// credentials of the user who made it on the first node. The receiving agent trusts them
    /// because only members holding the cluster key can open the stream.
    struct PeerRequest: Codable, Sendable {
        var request: Control.Request
        var uid: UInt32
        var gid: UInt32
    }
}
