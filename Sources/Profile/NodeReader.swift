/// A positioned JSON value with its path, offering typed reads that fail with a ``ProfileError``
/// naming the file, line, column and path.
struct NodeReader {
    let node: JSONNode
    let path: JSONPath

    /// An error about this value.
    func error(_ message: String) -> ProfileError {
        ProfileError(at: node.location, path: path, message)
    }

    /// "expected X, found Y".
    func typeMismatch(_ expected: String) -> ProfileError {
        error("expected \(expected), found \(foundDescription)")
    }

    /// The kind of value, with the value itself for short scalars: `a number (644)`.
    var foundDescription: String {
        switch node.value {
        case .number(let text): "a number (\(text))"
        case .bool(let flag): "a boolean (\(flag))"
        default: node.kindDescription
        }
    }

    func string() throws(ProfileError) -> String {
        guard case .string(let text) = node.value else { throw typeMismatch("a string") }
        return text
    }

    /// A string that is not empty.
    func nonEmptyString(_ what: String = "a string") throws(ProfileError) -> String {
        let text = try string()
        guard !text.isEmpty else { throw error("expected \(what), found an empty string") }
        return text
    }

    func bool() throws(ProfileError) -> Bool {
        guard case .bool(let flag) = node.value else { throw typeMismatch("true or false") }
        return flag
    }

    /// An integer written without fraction or exponent.
    func integer() throws(ProfileError) -> Int {
        guard case .number(let text) = node.value else { throw typeMismatch("an integer") }
        guard let value = Int(text) else {
            if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
                throw error("expected an integer, found \(text)")
            }
            throw error("\(text) is too large")
        }
        return value
    }

    /// An integer inside `range`.
    func integer(in range: ClosedRange<Int>, what: String = "") throws(ProfileError) -> Int {
        let value = try integer()
        guard range.contains(value) else {
            throw error("\(what.isEmpty ? "" : what + " ")\(value) is out of range; expected \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// The elements, each with its indexed path.
    func array() throws(ProfileError) -> [NodeReader] {
        guard case .array(let items) = node.value else { throw typeMismatch("an array") }
        return items.enumerated().map { NodeReader(node: $1, path: path.appending(index: $0)) }
    }

    /// A list that `extends` may append to: a plain array, or `{"replace": [...]}`.
    func mergeableArray() throws(ProfileError) -> [NodeReader] {
        switch node.value {
        case .array:
            return try array()
        case .object:
            let wrapper = try object(allowing: ["replace"])
            guard let inner = wrapper.optional("replace") else {
                throw error("expected an array or {\"replace\": [...]}, found an object without \"replace\"")
            }
            return try inner.array()
        default:
            throw typeMismatch("an array")
        }
    }

    /// An object whose keys must all be in `allowed`; the first unknown key is an error that
    /// suggests the closest allowed key.
    func object(allowing allowed: [String]) throws(ProfileError) -> ObjectReader {
        guard case .object(let members) = node.value else { throw typeMismatch("an object") }
        for member in members where !allowed.contains(member.key) {
            var message = "unknown key \"\(member.key)\""
            if let suggestion = KeySuggestion.closest(to: member.key, among: allowed) {
                message += "; did you mean \"\(suggestion)\"?"
            } else {
                message += "; expected one of \(KeySuggestion.list(allowed))"
            }
            throw ProfileError(at: member.keyLocation, path: path.appending(member.key), message)
        }
        return ObjectReader(reader: self, members: members)
    }

    /// An object with any keys.
    func anyObject() throws(ProfileError) -> ObjectReader {
        guard case .object(let members) = node.value else { throw typeMismatch("an object") }
        return ObjectReader(reader: self, members: members)
    }

    /// A string naming one of an enum's cases; unknown names list the allowed ones.
    func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type, what: String) throws(ProfileError) -> T
    where T.RawValue == String {
        let text = try string()
        if let value = T(rawValue: text) { return value }
        let allowed = T.allCases.map(\.rawValue)
        var message = "unknown \(what) \"\(text)\"; expected one of \(KeySuggestion.list(allowed))"
        if let suggestion = KeySuggestion.closest(to: text, among: allowed) { message += " (did you mean \"\(suggestion)\"?)" }
        throw error(message)
    }
}
