/// Path helpers for entry paths (always `/`-separated, relative to the image root).
public enum FilePath {
    /// Normalises a path from a tar header, an overlay walk or a profile: strips leading `/` and
    /// `./`, drops empty and `.` components, resolves `..` lexically (never above the root) and
    /// removes any trailing `/`. The root is `""`.
    public static func normalize(_ raw: String) -> String {
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    /// The parent of a normalised path; `""` for a top-level entry, `nil` for the root.
    public static func parent(of path: String) -> String? {
        if path.isEmpty { return nil }
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// Joins a normalised directory path and a child name.
    public static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory + "/" + name
    }

    /// Whether `path` is `ancestor` itself or lies below it.
    public static func isWithin(_ path: String, _ ancestor: String) -> Bool {
        if ancestor.isEmpty { return true }
        guard path.hasPrefix(ancestor) else { return false }
        return path.count == ancestor.count || path.dropFirst(ancestor.count).first == "/"
    }
}
