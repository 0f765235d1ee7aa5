extension Wire {
    /// Why an incoming datagram was dropped. The agent counts drops per reason.
    public enum Rejection: Hashable, Sendable, CaseIterable {
        /// Shorter than a header plus tag, or not a clusterd datagram at all.
        case truncated
        /// An envelope version this agent does not speak.
        case unknownVersion
        /// The AEAD tag did not verify: the datagram was altered, or sealed under another cluster
        /// key. The two are indistinguishable by design of an AEAD, so they share one counter.
        case authenticationFailed
        /// A sequence number already accepted from this sender.
        case replayed
        /// A sequence number below the sender's replay window (of that session).
        case tooOld
        /// A sequence number implausibly far (more than ``Wire/ReplayWindow/maxJump``) above the
        /// session's highest, or above 0 for a new session: a forgery meant to lock the sender out.
        case tooFarAhead
        /// Addressed to another node: a datagram between two members replayed to a third.
        case wrongRecipient
        /// Authentic, addressed to any recipient, but not a `join` (the only message that may be).
        case unaddressed
        /// Authenticated, but the plaintext is not a message this agent understands (a newer
        /// peer, or a bug); ``Wire/Opened`` carries the detail.
        case malformed
    }
}
