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

        /// Reads /proc/PID/status.
        public static func read(_ pid: Int32, procRoot: String = "/proc") -> Credentials? {
            ProcFiles.read("\(procRoot)/\(pid)/status").flatMap { Credentials(status: $0) }
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
