/// Why a profile could not be loaded: one sentence naming the file, the JSON path inside it, the
/// line and column where known, and what was expected.
///
/// Printed as `profiles/x.json:12:5: boot.entries[0].label: expected a string, found a number`.
public struct ProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The profile file, as named by the user or resolved through `extends`.
    public var file: String
    /// The JSON path of the offending value, like `base.debian.packages[2]`; empty for the whole file.
    public var jsonPath: String
    /// 1-based line, when the problem has a position in the file.
    public var line: Int?
    /// 1-based column (in Unicode scalars), when the problem has a position in the file.
    public var column: Int?
    /// What is wrong and what was expected.
    public var message: String

    /// An error in `file`, at `line`:`column` and `jsonPath` when known.
    public init(file: String, jsonPath: String = "", line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.jsonPath = jsonPath
        self.line = line
        self.column = column
        self.message = message
    }

    /// An error at a value's position.
    init(at location: SourceLocation, path: JSONPath, _ message: String) {
        self.init(file: location.file, jsonPath: path.description, line: location.line, column: location.column, message: message)
    }

    /// A malformed document.
    init(_ syntax: JSONSyntaxError) {
        self.init(at: syntax.location, path: syntax.path, syntax.message)
    }

    /// `file:line:column: path: message`, leaving out the parts that are unknown.
    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !jsonPath.isEmpty { text += jsonPath + ": " }
        return text + message
    }
}
