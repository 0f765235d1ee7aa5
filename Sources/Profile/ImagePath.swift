/// Checks and normalises paths inside the image, as written in `files[].path` and `permissions`.
enum ImagePath {
    /// The path with repeated `/`, `.` components and any trailing `/` removed; the root stays `/`.
    static func normalize(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        return "/" + parts.joined(separator: "/")
    }

    /// Why `path` cannot name a path in the image, or `nil` when it can.
    static func problem(with path: String, allowRoot: Bool) -> String? {
        if !path.hasPrefix("/") {
            return "\"\(path)\" is relative; expected an absolute path in the image like \"/\(path)\""
        }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\u{7F}" }) {
            return "\"\(path)\" contains a control character"
        }
        if path.split(separator: "/").contains("..") {
            return "\"\(path)\" contains \"..\"; expected a plain absolute path in the image"
        }
        if !allowRoot && normalize(path) == "/" {
            return "\"\(path)\" is the root directory; expected a file path like \"/etc/hostname\""
        }
        return nil
    }
}
