/// The one error type of the node side (`clusterd`, its libraries, and `cluster`): a category,
/// one sentence for the user (what is wrong, where: job, node, file; what to do), and the
/// underlying error if there is one. Modules keep detailed types where a caller decides on
/// them (`Migration.CRIU.Failure`'s kind, `Wire.Stream.Failure`); everything that only reaches
/// a person is a `NodeError`.
public struct NodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// A request, a parameter or a peer's message is malformed.
        case input
        /// The caller may not do this (not the job's owner, not root, the trust model).
        case permission
        /// No such job, node or file.
        case notFound
        /// Not now: the job is migrating, already runs here, has ended.
        case conflict
        /// Another node did not answer, or broke off.
        case unreachable
        /// A system call, a helper program or the disk failed.
        case system
        /// Anything else; the sentence says what.
        case failed
    }

    public var code: Code
    public var message: String
    public var underlying: String?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying.map { String(describing: $0) }
    }

    /// A failure whose sentence says it all.
    public init(_ message: String) {
        self.init(.failed, message)
    }

    /// A failure whose sentence says it all (the spelling of the node side's older types).
    public init(description: String) {
        self.init(.failed, description)
    }

    public var description: String {
        guard let underlying, !message.contains(underlying) else { return message }
        return "\(message) (\(underlying))"
    }
}
