extension Agent {
    /// Why the agent cannot start or do what it was asked: one sentence saying what is wrong,
    /// where, and what to do.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String

        public init(_ description: String) {
            self.description = description
        }
    }
}
