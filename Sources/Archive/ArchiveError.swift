extension Archive {
    /// A libarchive failure: what we were doing, and libarchive's own message.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var operation: String
        public var message: String
        public var code: Int32

        public init(operation: String, message: String, code: Int32 = 0) {
            self.operation = operation
            self.message = message
            self.code = code
        }

        public var description: String { "\(operation): \(message)" }
    }
}
