import Glibc

extension Jobs {
    /// What a request that arrives from another node may do here. The cluster key proves that
    /// the sender is a member, not who typed the command there: the uid in a forwarded request
    /// is only asserted by that node's agent (as munge's uid is asserted by the local munged).
    /// So a peer may act as any ordinary user, never as root or a system account: requests and
    /// restored jobs below ``minimumPeerUID`` are refused, unless the profile sets it to 0
    /// (`cluster.trust.minimumPeerUID`, Docs/security.md).
    public struct Trust: Sendable, Equatable {
        /// Debian's first ordinary user (adduser's FIRST_UID).
        public static let defaultMinimumPeerUID: UInt32 = 1000

        /// The lowest uid (and group) a peer may run or restore a job as; 0 lets peers run
        /// anything as anyone, root included.
        public var minimumPeerUID: UInt32

        public init(minimumPeerUID: UInt32 = defaultMinimumPeerUID) {
            self.minimumPeerUID = minimumPeerUID
        }

        /// Why a peer may not run (or restore) a job as `uid`:`gid` here, or nil if it may.
        /// `localGroups` are the groups this node's own user database gives `uid` (nil when it
        /// has no entry for it): a primary group below the minimum must be one of them, so a
        /// peer cannot claim an ordinary uid with the `shadow` or `disk` group.
        public func refusal(uid: UInt32, gid: UInt32, localGroups: [UInt32]?) -> String? {
            guard minimumPeerUID > 0 else { return nil }
            if uid < minimumPeerUID {
                return "jobs from other nodes run only as uid \(minimumPeerUID) or above (cluster.trust.minimumPeerUID), not as \(uid == 0 ? "root" : "uid \(uid)")"
            }
            if gid < minimumPeerUID && !(localGroups ?? []).contains(gid) {
                return "uid \(uid) is not in group \(gid) on this node; jobs from other nodes run with group \(minimumPeerUID) or above, or one of the user's own groups"
            }
            return nil
        }

        /// Whether `requester` may act on (kill, read, pin, move) a job of `owner`. From the local
        /// control socket (`viaPeer` false) the uid is the kernel's word: the owner or root. From
        /// another node it is that node's word: the owner or a claimed root, and never on a job
        /// below ``minimumPeerUID``.
        public func permits(_ requester: UInt32, on owner: UInt32, viaPeer: Bool) -> Bool {
            let ownerOrRoot = requester == 0 || requester == owner
            guard viaPeer, minimumPeerUID > 0 else { return ownerOrRoot }
            return ownerOrRoot && owner >= minimumPeerUID
        }

        /// The supplementary groups a job from another node may hold here: the user's own groups
        /// at or above the minimum (and its primary group). System groups such as `sudo`, `disk`
        /// or `docker` would hand a key holder root through the user.
        public func peerGroups(_ localGroups: [UInt32], gid: UInt32) -> [UInt32] {
            guard minimumPeerUID > 0 else { return localGroups }
            var groups = localGroups.filter { $0 >= minimumPeerUID }
            if !groups.contains(gid) { groups.insert(gid, at: 0) }
            return groups
        }

        /// Whether a job of `owner` may leave this node (the destination would refuse it).
        public func mayMigrate(owner: UInt32) -> Bool {
            minimumPeerUID == 0 || owner >= minimumPeerUID
        }

        /// The groups this node's user database gives `uid` (its primary group and
        /// supplementary ones); nil when it has no passwd entry.
        public static func localGroups(of uid: UInt32) -> [UInt32]? {
            // getpwuid_r: the agent asks from concurrent tasks, and getpwuid's static entry could
            // be overwritten by another thread's lookup between here and getgrouplist.
            var buffer = [CChar](repeating: 0, count: 16 * 1024)
            return buffer.withUnsafeMutableBufferPointer { storage -> [UInt32]? in
                // The entry's strings live in `storage`, valid for this closure.
                var entry = passwd()
                var found: UnsafeMutablePointer<passwd>?
                guard let base = storage.baseAddress, getpwuid_r(uid, &entry, base, storage.count, &found) == 0, found != nil else {
                    return nil
                }
                let primary = entry.pw_gid
                var count: Int32 = 64
                var groups = [gid_t](repeating: 0, count: Int(count))
                if getgrouplist(entry.pw_name, primary, &groups, &count) < 0 {
                    groups = [gid_t](repeating: 0, count: Int(max(count, 1)))
                    guard getgrouplist(entry.pw_name, primary, &groups, &count) >= 0 else { return [primary] }
                }
                return Array(groups.prefix(Int(count)))
            }
        }
    }
}
