extension Jobs {
    /// A process's identity as /proc/PID/status gives it: real, effective, saved and file-system
    /// uids and gids, and its capability sets. A job restored from another node's images is
    /// checked with this before it may run (``matches(uid:gid:)``): CRIU restores whatever
    /// credentials the images name, and the images come from the network.
    public struct Credentials: Sendable, Equatable {
        public var uids: [UInt32]
        public var gids: [UInt32]
        /// Supplementary groups.
        public var groups: [UInt32]
        /// CapInh, CapPrm, CapEff, CapBnd is not here: the bounding set limits, it grants nothing.
        public var capabilities: [String: UInt64]

        /// Parses the text of /proc/PID/status; nil when a field is missing or malformed.
        public init?(status text: String) {
            var uids: [UInt32]?
            var gids: [UInt32]?
            var groups: [UInt32] = []
            var capabilities: [String: UInt64] = [:]
            for line in text.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon]
                let fields = line[line.index(after: colon)...].split(whereSeparator: { $0 == "\t" || $0 == " " })
                switch name {
                case "Uid": uids = fields.compactMap { UInt32($0) }
                case "Gid": gids = fields.compactMap { UInt32($0) }
                case "Groups": groups = fields.compactMap { UInt32($0) }
                case "CapInh", "CapPrm", "CapEff", "CapAmb":
                    guard let value = fields.first.flatMap({ UInt64($0, radix: 16) }) else { return nil }
                    capabilities[String(name)] = value
                default: continue
                }
            }
            guard let uids, uids.count == 4, let gids, gids.count == 4, capabilities.count >= 3 else { return nil }
            self.uids = uids
            self.gids = gids
            self.groups = groups
            self.capabilities = capabilities
        }

        /// Reads /proc/PID/status, or /proc/PID/task/TID/status for one thread.
        public static func read(_ pid: Int32, thread: Int32? = nil, procRoot: String = "/proc") -> Credentials? {
            let path = thread.map { "\(procRoot)/\(pid)/task/\($0)/status" } ?? "\(procRoot)/\(pid)/status"
            return ProcFiles.read(path).flatMap { Credentials(status: $0) }
        }

        /// The thread ids of `pid` (/proc/PID/task).
        public static func threads(of pid: Int32, procRoot: String = "/proc") -> [Int32] {
            Jobs.Supervisor.entries(of: "\(procRoot)/\(pid)/task").compactMap { Int32($0) }
        }

        /// The first kind of namespace (`user`, `mnt`, `net`...) in which `pid` differs from the
        /// calling process, leaving out `besides`; nil when it shares all of them.
        public static func foreignNamespace(of pid: Int32, besides: Set<String>, procRoot: String = "/proc") -> String? {
            for kind in Jobs.Supervisor.entries(of: "\(procRoot)/self/ns").sorted() where !besides.contains(kind) {
                let own = ProcFiles.link("\(procRoot)/self/ns/\(kind)")
                let theirs = ProcFiles.link("\(procRoot)/\(pid)/ns/\(kind)")
                if own != theirs { return kind }
            }
            return nil
        }

        /// Every uid is `uid`, every gid is `gid`, every supplementary group is `gid` or one of
        /// `allowedGroups` (what this node's user database gives the user), and a process of an
        /// ordinary user holds no capability (root's may: `uid` 0 is only asked for when the
        /// profile allows it).
        public func matches(uid: UInt32, gid: UInt32, allowedGroups: [UInt32]) -> Bool {
            guard uids.allSatisfy({ $0 == uid }), gids.allSatisfy({ $0 == gid }) else { return false }
            guard groups.allSatisfy({ $0 == gid || allowedGroups.contains($0) }) else { return false }
            return uid == 0 || capabilities.values.allSatisfy { $0 == 0 }
        }
    }
}
