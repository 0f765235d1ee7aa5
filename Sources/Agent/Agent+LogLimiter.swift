extension Agent {
    /// At most one log line per reason every ``interval``, saying how many were left out since:
    /// a flood of refused connections must not become a flood of journal lines.
    struct LogLimiter: Sendable {
        var interval: Duration = .seconds(10)
        private var last: [String: ContinuousClock.Instant] = [:]
        private var suppressed: [String: Int] = [:]

        init(interval: Duration = .seconds(10)) {
            self.interval = interval
        }

        /// Whether to log a line for `reason` at `now`, and how many lines were left out before it.
        mutating func allow(_ reason: String, now: ContinuousClock.Instant) -> (log: Bool, suppressed: Int) {
            if let previous = last[reason], now - previous < interval {
                suppressed[reason, default: 0] += 1
                return (false, 0)
            }
            last[reason] = now
            // Bounded: one entry per reason, and reasons are a fixed set.
            return (true, suppressed.removeValue(forKey: reason) ?? 0)
        }
    }
}
