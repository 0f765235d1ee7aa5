/// Where a JSON value starts: the file it was read from (as the user named it) and a 1-based
/// line and column. Columns count Unicode scalars, as editors do.
public struct SourceLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The file, as given on the command line or resolved from an `extends` chain.
    public var file: String
    /// 1-based line number.
    public var line: Int
    /// 1-based column, in Unicode scalars.
    public var column: Int

    /// A position in `file`.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`.
    public var description: String { "\(file):\(line):\(column)" }

    /// `line:column` when `other` is in the same file, `file:line:column` otherwise: for pointing
    /// at an earlier definition from an error message.
    func description(from other: SourceLocation) -> String {
        other.file == file ? "\(line):\(column)" : description
    }
}
