/// A JSON document that is not well-formed (or repeats a key), with the position of the problem.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem was found.
    public var location: SourceLocation
    /// The path of the value being read when the problem was found.
    public var path: JSONPath
    /// What is wrong, as one sentence.
    public var message: String

    /// An error at `location`, found while reading the value at `path`.
    public init(location: SourceLocation, path: JSONPath, message: String) {
        self.location = location
        self.path = path
        self.message = message
    }

    /// `file:line:column: path: message`.
    public var description: String {
        path.components.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}
