/// The members of a positioned JSON object, read by key.
struct ObjectReader {
    let reader: NodeReader
    let members: [JSONMember]

    /// The value under `key`, if present.
    func optional(_ key: String) -> NodeReader? {
        guard let member = members.first(where: { $0.key == key }) else { return nil }
        return NodeReader(node: member.value, path: reader.path.appending(key))
    }

    /// The value under `key`; its absence is an error at the object.
    func required(_ key: String, hint: String = "") throws(ProfileError) -> NodeReader {
        guard let value = optional(key) else {
            throw reader.error("missing required key \"\(key)\"\(hint)")
        }
        return value
    }

    /// The member itself (for the key's position).
    func member(_ key: String) -> JSONMember? {
        members.first { $0.key == key }
    }

    /// Each member as a reader, in source order.
    var entries: [(key: String, keyLocation: SourceLocation, value: NodeReader)] {
        members.map { ($0.key, $0.keyLocation, NodeReader(node: $0.value, path: reader.path.appending($0.key))) }
    }
}
