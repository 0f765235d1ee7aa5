/// Lexical helpers for paths on the build host (`/`-separated). Nothing here touches the disk:
/// symbolic links are not followed, `..` is resolved textually.
enum HostPath {
    static func isAbsolute(_ path: String) -> Bool { path.hasPrefix("/") }

    /// Removes empty and `.` components and resolves `..` where it can; keeps leading `..` of
    /// relative paths. Returns `.` for an empty relative path and `/` for the root.
    static func normalize(_ path: String) -> String {
        let absolute = isAbsolute(path)
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                if let last = parts.last, last != ".." { parts.removeLast() } else if !absolute { parts.append(part) }
            default: parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// The directory holding `path`: `.` for a bare file name.
    static func directory(of path: String) -> String {
        let normalized = normalize(path)
        guard let slash = normalized.lastIndex(of: "/") else { return "." }
        if slash == normalized.startIndex { return "/" }
        return String(normalized[..<slash])
    }

    /// `path` taken relative to `directory` (or as is when absolute), normalised.
    static func resolve(_ path: String, relativeTo directory: String) -> String {
        if isAbsolute(path) || directory == "." { return normalize(path) }
        return normalize(directory + "/" + path)
    }

    /// An absolute, normalised form of `path`, taken relative to `currentDirectory`.
    static func absolute(_ path: String, currentDirectory: String) -> String {
        resolve(path, relativeTo: currentDirectory)
    }

    /// How to reach absolute `path` from absolute `directory`, like `../overlays/x`; `.` when equal.
    static func relative(_ path: String, from directory: String) -> String {
        let target = normalize(path).split(separator: "/")
        let base = normalize(directory).split(separator: "/")
        var common = 0
        while common < target.count, common < base.count, target[common] == base[common] { common += 1 }
        let parts = Array(repeating: Substring(".."), count: base.count - common) + target[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
