extension Profile {
    /// A user or group, by name (looked up in the image's `/etc/passwd` or `/etc/group` at build
    /// time) or by numeric id.
    public enum Identity: Sendable, Equatable, Hashable {
        case name(String)
        case id(UInt32)

        /// The value as it appears in canonical JSON: a string or a number.
        var jsonValue: JSONValue {
            switch self {
            case .name(let name): .string(name)
            case .id(let id): .number(String(id))
            }
        }
    }
}
