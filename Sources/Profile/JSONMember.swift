/// One `"key": value` pair of a positioned JSON object.
struct JSONMember: Sendable, Equatable {
    var key: String
    /// Where the key's opening quote is.
    var keyLocation: SourceLocation
    var value: JSONNode
}
