/// Work done once per key among concurrent callers in this process: a caller that finds the key
/// under way waits for that run's result instead of starting its own. Used for the base tar,
/// where two profiles built at once with the same base would otherwise run mmdebstrap twice
/// into the same cache entry.
public actor SharedWork<Value: Sendable> {
    /// What a caller got: the value, and whether it waited for another caller's run.
    public struct Outcome: Sendable {
        public var value: Value
        public var joined: Bool
    }

    private var running: [String: Task<Value, any Error>] = [:]

    public init() {}

    /// `body`'s value for `key`: from the run already under way for it, or from a new run.
    /// The key is free again once its run ends, so a later call runs `body` again (the caller's
    /// own cache check comes first).
    public func run(_ key: String, _ body: @escaping @Sendable () async throws -> Value) async throws -> Outcome {
        if let task = running[key] {
            return Outcome(value: try await task.value, joined: true)
        }
        let task = Task { try await body() }
        running[key] = task
        defer { running[key] = nil }
        return Outcome(value: try await task.value, joined: false)
    }
}
