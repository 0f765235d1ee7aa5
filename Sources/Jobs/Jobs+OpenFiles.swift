import CJobs
import Glibc

extension Jobs {
    /// The files a restored job holds open. CRIU reopens them as root, at whatever paths and in
    /// whatever modes the images (from the network) name, so a forged image could hand a job a
    /// descriptor for /etc/shadow or a disk. While the tree is still stopped, each descriptor
    /// that names a path is checked: the job's user must be able to open that path in that mode
    /// (the kernel decides, on a thread holding the user's file-system identity). Pipes,
    /// sockets, anonymous inodes and deleted files name no path and are the job's own.
    public enum OpenFiles {
        /// The access mode (O_RDONLY, O_WRONLY or O_RDWR) of a /proc/PID/fdinfo/N text.
        public static func accessMode(fdinfo text: String) -> Int32? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags:") }),
                  let flags = Int32(String(line.dropFirst("flags:".count).filter { $0 != " " && $0 != "\t" }), radix: 8) else { return nil }
            return flags & O_ACCMODE
        }

        /// Why process `pid` holds a file its user could not open, or nil. `jobFiles` (the job's
        /// stdout and stderr, in the root-only jobs directory, which the agent opens for it) may
        /// be held for writing.
        public static func problem(pid: Int32, uid: UInt32, gid: UInt32, groups: [UInt32], jobFiles: Set<String> = [], procRoot: String = "/proc") -> String? {
            for entry in Supervisor.entries(of: "\(procRoot)/\(pid)/fd") {
                guard let target = ProcFiles.link("\(procRoot)/\(pid)/fd/\(entry)"), target.hasPrefix("/"), !target.hasSuffix(" (deleted)") else { continue }
                guard let mode = ProcFiles.read("\(procRoot)/\(pid)/fdinfo/\(entry)").flatMap(accessMode(fdinfo:)) else {
                    return "cannot read the mode of pid \(pid)'s descriptor \(entry)"
                }
                if jobFiles.contains(target) && mode == O_WRONLY { continue }
                if let refusal = mayOpen(target, uid: uid, gid: gid, groups: groups, accessMode: mode) {
                    return "pid \(pid) holds \(target) open for \(mode == O_RDONLY ? "reading" : "writing"), which uid \(uid) may not open: \(refusal)"
                }
            }
            return nil
        }

        /// nil when `uid`:`gid` with `groups` may open `path` in `accessMode`; else why not.
        public static func mayOpen(_ path: String, uid: UInt32, gid: UInt32, groups: [UInt32], accessMode: Int32) -> String? {
            let groupIDs = groups.map { gid_t($0) }
            let result = groupIDs.withUnsafeBufferPointer { buffer in
                cjobs_may_open_as_user(path, uid, gid, buffer.baseAddress, Int32(buffer.count), accessMode)
            }
            return result == 0 ? nil : String(cString: strerror(errno))
        }
    }
}
