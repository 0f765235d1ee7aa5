extension Jobs {
    /// Where jobs live on a node: one directory per job under ``root``, holding the job's
    /// `stdout`, `stderr` and `job.json`. The directory is what migrates with the job.
    public struct Layout: Sendable, Equatable {
        /// `/var/lib/clusterd/jobs` in the images.
        public var root: String

        public static let defaultRoot = "/var/lib/clusterd/jobs"

        public init(root: String = Layout.defaultRoot) {
            self.root = root
        }

        public func directory(_ id: String) -> String { root + "/" + id }
        public func stdout(_ id: String) -> String { directory(id) + "/stdout" }
        public func stderr(_ id: String) -> String { directory(id) + "/stderr" }
        public func record(_ id: String) -> String { directory(id) + "/job.json" }

        /// A job id: the node's short id (the last 6 hex digits of its node id) and a counter,
        /// so ids from different nodes never collide and read well in `cluster ps`.
        public static func jobID(node: UInt64, counter: Int) -> String {
            let hex = String(node & 0xFF_FFFF, radix: 16)
            return String(repeating: "0", count: 6 - hex.count) + hex + "-" + String(counter)
        }

        /// Whether `id` is a job id as ``jobID(node:counter:)`` makes them: six lowercase hex
        /// digits, a dash and 1 to 9 digits. Ids name directories, so every id that arrives from
        /// the control socket or another node is checked against this before use.
        public static func isJobID(_ id: String) -> Bool {
            let bytes = Array(id.utf8)
            guard (8...16).contains(bytes.count), bytes[6] == UInt8(ascii: "-") else { return false }
            let hex = bytes[0..<6].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
            let counter = bytes[7...].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            return hex && counter
        }

        /// The counter in a job id made by ``jobID(node:counter:)``, if it is one of `node`'s.
        public static func counter(in id: String, node: UInt64) -> Int? {
            let prefix = jobID(node: node, counter: 0).dropLast()
            guard id.hasPrefix(prefix) else { return nil }
            return Int(id.dropFirst(prefix.count))
        }
    }
}
