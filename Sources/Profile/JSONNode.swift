/// A parsed JSON value that remembers where each part of it came from, so errors found while
/// decoding the profile can name the file, line and column.
struct JSONNode: Sendable, Equatable {
    /// The value, with positioned children.
    enum Value: Sendable, Equatable {
        case null
        case bool(Bool)
        /// The number exactly as written (validated against the JSON grammar).
        case number(String)
        case string(String)
        case array([JSONNode])
        /// Members in source order; keys are unique.
        case object([JSONMember])
    }

    var value: Value
    var location: SourceLocation

    /// "a string", "a number", ... for messages like "expected a string, found a number".
    var kindDescription: String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The member named `key`, if this is an object that has it.
    func member(_ key: String) -> JSONMember? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.key == key }
    }

    /// The plain value, positions dropped.
    var plainValue: JSONValue {
        switch value {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .number(let text): .number(text)
        case .string(let text): .string(text)
        case .array(let items): .array(items.map(\.plainValue))
        case .object(let members):
            .object(Dictionary(members.map { ($0.key, $0.value.plainValue) }, uniquingKeysWith: { _, last in last }))
        }
    }
}
