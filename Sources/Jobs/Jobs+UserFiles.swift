import CJobs
import Glibc
import NodeError

extension Jobs {
    /// Files written on a user's behalf by the agent, which runs as root: with the user's own
    /// permissions, so the agent never writes where the user could not (a migrated job's open
    /// files arrive from another node and name their own paths).
    public enum UserFiles {
        public typealias Failure = NodeError

        /// Creates or truncates the regular file at absolute `path` as `uid`:`gid` would, with
        /// `groups` as its supplementary groups: no symbolic link is followed on the way or at
        /// the end, missing directories are made by the user (0700), and the file belongs to
        /// the user. Returns an open descriptor for writing.
        public static func create(_ path: String, uid: UInt32, gid: UInt32, groups: [UInt32], mode: UInt32) throws(Failure) -> Int32 {
            let groupIDs = groups.map { gid_t($0) }
            let descriptor = groupIDs.withUnsafeBufferPointer { buffer in
                cjobs_open_as_user(path, uid, gid, buffer.baseAddress, Int32(buffer.count), mode_t(mode & 0o1777))
            }
            guard descriptor >= 0 else {
                throw Failure(description: "cannot write \(path) as uid \(uid): \(String(cString: strerror(errno)))")
            }
            return descriptor
        }
    }
}
