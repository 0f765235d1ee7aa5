extension Membership {
    /// A point on the agent's monotonic clock, in nanoseconds from an arbitrary origin.
    ///
    /// A plain value rather than `ContinuousClock.Instant` so tests can make instants out of
    /// nothing and the state machine never reads a clock.
    public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
        /// Nanoseconds since the clock's origin.
        public var nanoseconds: Int64

        /// Creates an instant `nanoseconds` after the origin.
        public init(nanoseconds: Int64) {
            self.nanoseconds = nanoseconds
        }

        /// The clock's origin.
        public static let zero = Instant(nanoseconds: 0)

        public static func < (lhs: Instant, rhs: Instant) -> Bool {
            lhs.nanoseconds < rhs.nanoseconds
        }

        /// The instant `duration` later.
        public static func + (lhs: Instant, rhs: Duration) -> Instant {
            Instant(nanoseconds: lhs.nanoseconds + rhs.nanoseconds)
        }

        /// The time from `rhs` to `lhs`.
        public static func - (lhs: Instant, rhs: Instant) -> Duration {
            .nanoseconds(lhs.nanoseconds - rhs.nanoseconds)
        }

        /// Milliseconds since the origin, e.g. `1250ms`.
        public var description: String {
            "\(nanoseconds / 1_000_000)ms"
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (instants and timeouts are kept in these).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
