import Foundation

extension Qemu.VM {
    /// Where a pattern was found on the console.
    public struct ConsoleMatch: Sendable, Hashable {
        /// UTF-8 offset of the match in the console text; pass it as `from:` to wait for the
        /// next occurrence.
        public var offset: Int
        /// The whole console line holding the match.
        public var line: String
    }

    /// Polls the console log until it contains `pattern` (a literal substring) at or after
    /// UTF-8 offset `from`.
    ///
    /// Throws `Qemu.Error.timedOut` at `deadline` and `Qemu.Error.exitedEarly` if QEMU exits
    /// first; both carry the pattern and the last 40 console lines.
    @discardableResult
    public func waitFor(
        pattern: String,
        deadline: ContinuousClock.Instant,
        from offset: Int = 0,
        pollInterval: Duration = .milliseconds(100)
    ) async throws -> ConsoleMatch {
        let started = ContinuousClock.now
        while true {
            let exited = !isRunning  // read before the log, so a final line is not missed
            let text = consoleText()
            if let match = Self.find(pattern, in: text, from: offset) { return match }
            if exited {
                throw Qemu.Error.exitedEarly(
                    pattern: pattern, status: exitStatus ?? -1, consoleLog: consoleLog,
                    logTail: Qemu.ConsoleLog.tail(of: text), stderr: qemuStandardError)
            }
            if ContinuousClock.now >= deadline {
                throw Qemu.Error.timedOut(
                    pattern: pattern, waited: ContinuousClock.now - started, consoleLog: consoleLog,
                    logTail: Qemu.ConsoleLog.tail(of: text))
            }
            try await Task.sleep(for: min(pollInterval, deadline - ContinuousClock.now))
        }
    }

    /// `waitFor(pattern:deadline:)` with a deadline `timeout` from now.
    @discardableResult
    public func waitFor(pattern: String, timeout: Duration, from offset: Int = 0) async throws -> ConsoleMatch {
        try await waitFor(pattern: pattern, deadline: .now + timeout, from: offset)
    }

    static func find(_ pattern: String, in text: String, from offset: Int) -> ConsoleMatch? {
        let utf8 = text.utf8
        guard offset <= utf8.count, !pattern.isEmpty else { return nil }
        let start = utf8.index(utf8.startIndex, offsetBy: offset)
        guard let range = text[start...].range(of: pattern) else { return nil }
        let lineStart = text[..<range.lowerBound].lastIndex(where: \.isNewline).map { text.index(after: $0) } ?? text.startIndex
        let lineEnd = text[range.upperBound...].firstIndex(where: \.isNewline) ?? text.endIndex
        return ConsoleMatch(offset: utf8.distance(from: utf8.startIndex, to: range.lowerBound), line: String(text[lineStart..<lineEnd]))
    }
}
