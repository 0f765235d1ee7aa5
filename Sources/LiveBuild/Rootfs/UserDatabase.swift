/// User and group names of the image (`/etc/passwd`, `/etc/group`), to resolve owners given
/// by name in the profile.
public struct UserDatabase: Sendable, Equatable {
    public var users: [String: UInt32] = [:]
    public var groups: [String: UInt32] = [:]

    public init(passwd: String = "", group: String = "") {
        users = Self.parse(passwd)
        groups = Self.parse(group)
        users["root"] = users["root"] ?? 0
        groups["root"] = groups["root"] ?? 0
    }

    /// `name:x:ID:...` lines → name → ID.
    static func parse(_ text: String) -> [String: UInt32] {
        var result: [String: UInt32] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 3, let id = UInt32(fields[2]) { result[String(fields[0])] = id }
        }
        return result
    }

    /// A user given as a name or a number.
    public func uid(_ owner: String) -> UInt32? { UInt32(owner) ?? users[owner] }

    /// A group given as a name or a number.
    public func gid(_ group: String) -> UInt32? { UInt32(group) ?? groups[group] }
}
