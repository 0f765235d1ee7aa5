extension Control {
    /// A request to the agent.
    public struct Request: Codable, Sendable, Equatable {
        /// What to do.
        public enum Command: String, Codable, Sendable, CaseIterable {
            /// Every member this node knows, itself included (``Control/Response/nodes``).
            case nodes
            /// This node: settings with their sources, counters (``Control/Response/status``).
            case status
        }

        public var command: Command

        public init(_ command: Command) {
            self.command = command
        }
    }
}
