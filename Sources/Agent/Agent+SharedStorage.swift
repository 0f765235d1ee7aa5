extension Agent {
    /// Storage every node sees at the same path: a job may start on another node only if its
    /// working directory is there (`cluster run` placement). The head's exported directory,
    /// and the same directory on a node once its NFS mount is in place; or a directory the
    /// operator names with `clusterd run --shared-directory` (a cluster filesystem the image did
    /// not set up), taken on trust.
    enum SharedStorage {
        /// The shared directory as this node has it now, or nil: none configured, or a node's
        /// mount not in place (yet).
        static func directory(settings: Settings, root: String = "") -> String? {
            if let named = settings.sharedDirectory { return named }
            guard let line = HostFacts.text(root + Configurator.shareFile) else { return nil }
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 2, let path = words.last, path.hasPrefix("/") else { return nil }
            switch words[0] {
            case "export":
                return path
            case "mount", "discover":
                return isNetworkMount(path, mountinfo: HostFacts.text(root + "/proc/self/mountinfo") ?? "") ? path : nil
            default:
                return nil
            }
        }

        /// Whether `path` is `directory` or under it. `path` must be absolute and plain: no `.`
        /// or `..` component, no doubled slash (a forwarded request is another node's word).
        static func contains(_ path: String, in directory: String) -> Bool {
            guard isPlainAbsolute(path) else { return false }
            let base = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
            return path == base || path.hasPrefix(base == "/" ? "/" : base + "/")
        }

        static func isPlainAbsolute(_ path: String) -> Bool {
            guard path.hasPrefix("/"), !path.utf8.contains(0) else { return false }
            let components = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            return path == "/" || components.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
        }

        /// Whether /proc/self/mountinfo has an NFS mount at `path` (`... MOUNTPOINT ... - nfs4 SOURCE ...`).
        static func isNetworkMount(_ path: String, mountinfo: String) -> Bool {
            for line in mountinfo.split(separator: "\n") {
                let halves = line.split(separator: " - ", maxSplits: 1)
                guard halves.count == 2 else { continue }
                let fields = halves[0].split(separator: " ")
                guard fields.count >= 5, unescape(fields[4]) == path else { continue }
                let type = halves[1].split(separator: " ").first ?? ""
                if type == "nfs" || type == "nfs4" { return true }
            }
            return false
        }

        /// mountinfo's octal escapes (`\040` for a space).
        static func unescape(_ field: Substring) -> String {
            var bytes: [UInt8] = []
            var utf8 = Array(field.utf8)[...]
            while let byte = utf8.popFirst() {
                if byte == UInt8(ascii: "\\"), utf8.count >= 3,
                   let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                    bytes.append(value)
                    utf8 = utf8.dropFirst(3)
                } else {
                    bytes.append(byte)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
