import NodeError
extension Agent {
    /// Why the agent cannot start or do what it was asked: the node side's one error type.
    public typealias Failure = NodeError
}
