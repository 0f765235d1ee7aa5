extension Control {
    /// The agent's answer: exactly one of `nodes`, `status` or `error` is set.
    public struct Response: Codable, Sendable, Equatable {
        public var nodes: [Node]?
        public var status: Status?
        /// Why the request failed, as one sentence.
        public var error: String?

        public init(nodes: [Node]? = nil, status: Status? = nil, error: String? = nil) {
            self.nodes = nodes
            self.status = status
            self.error = error
        }
    }
}
