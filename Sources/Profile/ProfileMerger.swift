/// Merges a profile over the profile it `extends`, on the positioned trees, so every value keeps
/// the file and position it came from.
///
/// Rules (documented in `Docs/profile.md`):
/// - objects merge key by key, recursively; on anything else the child wins;
/// - a child's `null` removes what the parent set under that key (as in JSON Merge Patch,
///   RFC 7396), so a child can drop a parent's `disk` block along with its disk output;
/// - arrays replace, except the lists in ``appendingLists``, where the child's items follow the
///   parent's, unless the child writes `{"replace": [...]}`;
/// - in `files`, a child entry replaces the parent's entry with the same path;
/// - `base` merges only when both name the same kind; a child naming another kind replaces it;
/// - `name`, `description`, `extends` and `$schema` describe one file and are never inherited.
enum ProfileMerger {
    /// Lists that `extends` appends to, as key paths.
    static let appendingLists: [[String]] = [["base", "debian", "packages"], ["overlays"], ["files"], ["kernel", "cmdline"]]

    /// Top-level keys a child does not inherit.
    static let notInherited: Set<String> = ["name", "description", "extends", "$schema"]

    /// `child` over `parent`; both are top-level profile objects.
    static func merge(parent: JSONNode, child: JSONNode) -> JSONNode {
        var inherited = parent
        if case .object(let members) = parent.value {
            inherited.value = .object(members.filter { !notInherited.contains($0.key) })
        }
        return merge(inherited, child, keys: [])
    }

    private static func merge(_ parent: JSONNode, _ child: JSONNode, keys: [String]) -> JSONNode {
        if appendingLists.contains(keys) { return mergeList(parent, child, keys: keys) }
        guard case .object(let parentMembers) = parent.value, case .object(let childMembers) = child.value else {
            return child
        }
        if keys == ["base"], Set(parentMembers.map(\.key)) != Set(childMembers.map(\.key)), !childMembers.isEmpty {
            return child
        }
        var members = parentMembers
        for member in childMembers {
            if case .null = member.value.value, !keys.isEmpty || !notInherited.contains(member.key) {
                members.removeAll { $0.key == member.key }
                continue
            }
            if let index = members.firstIndex(where: { $0.key == member.key }) {
                members[index] = JSONMember(
                    key: member.key, keyLocation: member.keyLocation,
                    value: merge(members[index].value, member.value, keys: keys + [member.key]))
            } else {
                members.append(member)
            }
        }
        return JSONNode(value: .object(members), location: child.location)
    }

    private static func mergeList(_ parent: JSONNode, _ child: JSONNode, keys: [String]) -> JSONNode {
        guard case .array(let childItems) = child.value, let parentItems = items(of: parent) else {
            return child  // `{"replace": [...]}`, or a type error the decoder reports
        }
        var kept = parentItems
        if keys == ["files"] {
            let childPaths = Set(childItems.compactMap(filePath))
            kept.removeAll { filePath($0).map(childPaths.contains) == true }
        }
        return JSONNode(value: .array(kept + childItems), location: child.location)
    }

    /// The items of a list written either way.
    private static func items(of node: JSONNode) -> [JSONNode]? {
        switch node.value {
        case .array(let items): return items
        case .object:
            if case .array(let items)? = node.member("replace")?.value.value { return items }
            return nil
        default: return nil
        }
    }

    /// The normalised `path` of a `files` entry.
    private static func filePath(_ node: JSONNode) -> String? {
        guard case .string(let path)? = node.member("path")?.value.value else { return nil }
        return ImagePath.normalize(path)
    }

    /// `tree` without its removals (members whose value is `null`), at every depth: what a file
    /// of a chain is checked as on its own.
    static func withoutRemovals(_ tree: JSONNode) -> JSONNode {
        guard case .object(let members) = tree.value else { return tree }
        let kept = members.compactMap { member -> JSONMember? in
            if case .null = member.value.value { return nil }
            var member = member
            member.value = withoutRemovals(member.value)
            return member
        }
        return JSONNode(value: .object(kept), location: tree.location)
    }

    /// The first removal (`"key": null`) in `tree`, as a reader for its error.
    static func firstRemoval(in tree: JSONNode, path: JSONPath = .root) -> NodeReader? {
        guard case .object(let members) = tree.value else { return nil }
        for member in members {
            let memberPath = path.appending(member.key)
            if case .null = member.value.value { return NodeReader(node: member.value, path: memberPath) }
            if let found = firstRemoval(in: member.value, path: memberPath) { return found }
        }
        return nil
    }
}
