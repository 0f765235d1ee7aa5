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

        /// The counter in a job id made by ``jobID(node:counter:)``, if it is one of `node`'s.
        public static func counter(in id: String, node: UInt64) -> Int? {
            let prefix = jobID(node: node, counter: 0).dropLast()
            guard id.hasPrefix(prefix) else { return nil }
            return Int(id.dropFirst(prefix.count))
        }
    }
}
