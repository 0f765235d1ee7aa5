extension Wire {
    /// An anti-replay window over one sender's sequence numbers, as in IPsec (RFC 4303 §3.4.3):
    /// the highest sequence accepted so far plus a bitmap of which of the `size` numbers below it
    /// were seen. Newer numbers slide the window; numbers inside it are accepted once; numbers
    /// below it are rejected as too old.
    ///
    /// Check a packet with ``verdict(for:)`` before spending effort, but call ``accept(_:)`` only
    /// after the packet authenticated, so forged packets cannot move the window.
    ///
    /// A number more than ``maxJump`` above the highest (above 0 for an empty window: sessions
    /// count from 1) is refused as `tooFarAhead`: no real sender gets there, and a key holder who
    /// forged one would otherwise push the window to the end of the number space and lock the
    /// real sender out for good.
    public struct ReplayWindow: Hashable, Sendable {
        /// How many sequence numbers the window remembers.
        public static let size: UInt64 = 64
        /// The largest plausible step above the highest accepted number: 2³² datagrams, more than
        /// a sender sends in a session of years (or in flight while its peer was away).
        public static let maxJump: UInt64 = 1 << 32

        /// The highest sequence number accepted, or `nil` before the first packet.
        public private(set) var highest: UInt64?
        /// Bit `i` set: `highest - i` was accepted.
        private var seen: UInt64 = 0

        /// What the window says about a sequence number.
        public enum Verdict: Hashable, Sendable {
            /// Not seen and inside or above the window.
            case fresh
            /// Already accepted.
            case replayed
            /// Below the window: it can no longer tell, so it refuses.
            case tooOld
            /// More than ``ReplayWindow/maxJump`` above the highest: implausible, refused.
            case tooFarAhead
        }

        /// An empty window: the first sequence number is always fresh.
        public init() {}

        /// Classifies `sequence` without changing the window.
        public func verdict(for sequence: UInt64) -> Verdict {
            guard let highest else { return sequence > Self.maxJump ? .tooFarAhead : .fresh }
            if sequence > highest { return sequence - highest > Self.maxJump ? .tooFarAhead : .fresh }
            let age = highest - sequence
            if age >= Self.size { return .tooOld }
            return seen & (1 << age) != 0 ? .replayed : .fresh
        }

        /// Records `sequence` as accepted; returns the verdict it had (only `.fresh` changes state).
        @discardableResult
        public mutating func accept(_ sequence: UInt64) -> Verdict {
            let verdict = verdict(for: sequence)
            guard verdict == .fresh else { return verdict }
            guard let current = highest else {
                highest = sequence
                seen = 1
                return .fresh
            }
            if sequence > current {
                let shift = sequence - current
                seen = shift >= Self.size ? 1 : (seen << shift) | 1
                highest = sequence
            } else {
                seen |= 1 << (current - sequence)
            }
            return .fresh
        }
    }
}
