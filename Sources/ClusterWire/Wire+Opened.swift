extension Wire {
    /// The outcome of opening one datagram.
    public enum Opened: Hashable, Sendable {
        /// Authentic, fresh and well-formed.
        case ok(sender: NodeID, sequence: UInt64, message: Message)
        /// Dropped; `detail` says more for `.malformed`.
        case rejected(Rejection, detail: DecodingError? = nil)

        /// The rejection reason, or `nil` for `.ok`.
        public var rejection: Rejection? {
            if case .rejected(let reason, _) = self { return reason }
            return nil
        }

        /// The message, or `nil` when rejected.
        public var message: Message? {
            if case .ok(_, _, let message) = self { return message }
            return nil
        }
    }
}
