import Glibc

extension Jobs {
    /// Each job's mount namespace (Docs/migration.md, "Whose jobs move"). CRIU's parasite needs a
    /// /proc of the job's PID namespace to dump it, and mounts one itself when there is none,
    /// which only root may do: so an ordinary user's job could not be checkpointed. Every job
    /// therefore gets a mount namespace of its own (`clusterd job-mounts`, run as root between
    /// `unshare` and the drop to the user) holding the node's root, a /proc of its own and the
    /// mounts a program needs (``kept``), nothing else: the node's other mounts (the live
    /// medium, credentials, debugfs...) differ between nodes and CRIU could not recreate them.
    ///
    /// CRIU dumps the kept mounts as external bind mounts and restores them by binding the
    /// destination's own paths (``dumpArguments(jobMountinfo:)``, ``restoreArguments(root:)``).
    /// The images come from the network, so the restored tree is compared with the node's own
    /// mounts before the job runs (``problem(restored:host:)``).
    public enum MountNamespace {
        /// What a job sees mounted besides `/` and its own /proc.
        public static let kept = ["/run", "/dev", "/dev/pts", "/dev/shm", "/sys", "/tmp", "/home"]
        /// At most this many more: the cluster's shared directory where the profile puts it
        /// elsewhere (``keptPaths(host:)``).
        static let maxShared = 4

        /// ``kept``, and the node's shared directories: NFS mounts (a member's) and the head's
        /// exported tmpfs (`livebuild-shared`), wherever the profile's `cluster.shared` put them,
        /// at plain paths outside the live system's own.
        public static func keptPaths(host: [Mount]) -> [String] {
            let shared = host.filter { mount in
                (mount.fsType == "nfs" || mount.fsType == "nfs4" || (mount.fsType == "tmpfs" && mount.source == "livebuild-shared"))
                    && !kept.contains(mount.mountPoint) && plainPath(mount.mountPoint)
                    && !mount.mountPoint.hasPrefix("/run/") && !mount.mountPoint.hasPrefix("/proc/")
            }.map(\.mountPoint)
            return kept + Array(Set(shared).sorted().prefix(maxShared))
        }

        /// A path CRIU's external keys can carry: absolute, of `[A-Za-z0-9._-]` components.
        static func plainPath(_ path: String) -> Bool {
            path.hasPrefix("/") && path.count > 1 && path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().allSatisfy { component in
                !component.isEmpty && component != "." && component != ".."
                    && component.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
            }
        }

        /// The CRIU external mount key of kept path `path` ("/dev/pts" → "job-dev-pts").
        public static func key(_ path: String) -> String {
            "job" + path.split(separator: "/").map { "-" + $0 }.joined()
        }

        /// One line of /proc/PID/mountinfo.
        public struct Mount: Sendable, Equatable {
            /// `major:minor` of the filesystem.
            public var device: String
            /// The directory of the filesystem mounted here.
            public var root: String
            public var mountPoint: String
            /// Per-mount options (`rw,nosuid,nodev,...`).
            public var options: Set<String>
            public var fsType: String
            /// The mount's source (`/dev/sda1`, `server:/home`, `livebuild-shared`).
            public var source: String = ""
        }

        /// Parses /proc/PID/mountinfo; malformed lines are left out.
        public static func parse(_ text: String) -> [Mount] {
            text.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                guard fields.count >= 10, let dash = fields.firstIndex(of: "-"), dash >= 6, dash + 1 < fields.count else { return nil }
                return Mount(device: fields[2], root: unescape(fields[3]), mountPoint: unescape(fields[4]),
                             options: Set(fields[5].split(separator: ",").map(String.init)), fsType: fields[dash + 1],
                             source: dash + 2 < fields.count ? unescape(fields[dash + 2]) : "")
            }
        }

        /// mountinfo's octal escapes (`\040` for a space).
        static func unescape(_ field: String) -> String {
            guard field.contains("\\") else { return field }
            var bytes: [UInt8] = []
            var utf8 = Array(field.utf8)[...]
            while let byte = utf8.popFirst() {
                if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                    bytes.append(value)
                    utf8 = utf8.dropFirst(3)
                } else {
                    bytes.append(byte)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        /// In the job's new mount namespace, as root, before the drop to the user: detaches every
        /// mount but `/` and ``kept``, and mounts a /proc of the job's PID namespace. Returns why
        /// it failed, or nil.
        public static func prune() -> String? {
            guard let text = ProcFiles.read("/proc/self/mountinfo") else { return "cannot read /proc/self/mountinfo" }
            let keep = Set(["/"] + keptPaths(host: parse(text)))
            // Deepest first, so a mount goes before the one it sits on.
            let doomed = parse(text).map(\.mountPoint).filter { !keep.contains($0) && $0 != "/proc" && !$0.hasPrefix("/proc/") }
                .sorted { $0.split(separator: "/").count > $1.split(separator: "/").count }
            for mountPoint in doomed {
                _ = umount2(mountPoint, Int32(MNT_DETACH))
            }
            // The node's /proc (with whatever sits on it) gives way to the job's own.
            var layers = 0
            while layers < 8, umount2("/proc", Int32(MNT_DETACH)) == 0 { layers += 1 }
            guard mount("proc", "/proc", "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil) == 0 else {
                return "cannot mount /proc for the job's PID namespace: \(String(cString: strerror(errno)))"
            }
            return nil
        }

        /// `criu dump` and `pre-dump` arguments for a job whose mountinfo is `jobMountinfo`:
        /// each kept mount it has, external. Empty for a job without a mount namespace of its
        /// own (one started before jobs had one).
        public static func dumpArguments(jobMountinfo: String) -> [String] {
            // The job's namespace holds only kept mounts besides `/` and its /proc.
            let present = parse(jobMountinfo).map(\.mountPoint).filter { $0 != "/" && $0 != "/proc" && plainPath($0) }
            return Array(Set(present)).sorted().flatMap { ["--external", "mnt[\($0)]:\(key($0))"] }
        }

        /// `criu restore` arguments: the new namespace's root is `root` (a bind mount of this
        /// node's `/`), and each kept mount is this node's own path.
        public static func restoreArguments(root: String, host: [Mount]) -> [String] {
            ["--root", root] + keptPaths(host: host).flatMap { ["--external", "mnt[\(key($0))]:\($0)"] }
        }

        /// Why a restored job's mounts (`restored`, from its mountinfo) are not what a job
        /// started here would have, given the node's own (`host`), or nil: only `/`, a /proc
        /// and kept paths; `/` and each kept path the same filesystem and directory as this
        /// node's, and at least as restricted (nosuid, nodev, noexec, ro).
        public static func problem(restored: [Mount], host: [Mount]) -> String? {
            let allowed = keptPaths(host: host)
            guard !restored.isEmpty, restored.count <= allowed.count + 2 else {
                return "the restored job has \(restored.count) mounts; a job here has at most \(allowed.count + 2)"
            }
            var seen: Set<String> = []
            for mount in restored {
                guard seen.insert(mount.mountPoint).inserted else { return "the restored job mounts \(mount.mountPoint) twice" }
                if mount.mountPoint == "/proc" {
                    guard mount.fsType == "proc", mount.root == "/" else { return "the restored job's /proc is \(mount.fsType), not its own proc" }
                    continue
                }
                guard mount.mountPoint == "/" || allowed.contains(mount.mountPoint) else {
                    return "the restored job mounts \(mount.mountPoint), which no job has"
                }
                // What this node has at that path: its mount there, else the directory inside
                // the mount that holds it (a kept path this node has no mount on is bound as is).
                guard let container = host.filter({ contains($0.mountPoint, mount.mountPoint) })
                    .max(by: { $0.mountPoint.count < $1.mountPoint.count }) else {
                    return "this node has nothing at \(mount.mountPoint)"
                }
                let relative = String(mount.mountPoint.dropFirst(container.mountPoint == "/" ? 0 : container.mountPoint.count))
                let expectedRoot = container.mountPoint == mount.mountPoint ? container.root
                    : (container.root == "/" ? relative : container.root + relative)
                guard mount.device == container.device, mount.root == expectedRoot else {
                    return "the restored job's \(mount.mountPoint) is \(mount.device) \(mount.root), not this node's \(container.device) \(expectedRoot)"
                }
                for flag in ["nosuid", "nodev", "noexec", "ro"] where container.options.contains(flag) && !mount.options.contains(flag) {
                    return "the restored job's \(mount.mountPoint) lacks \(flag), which this node's has"
                }
            }
            return nil
        }

        /// Whether `path` is `directory` or below it.
        static func contains(_ directory: String, _ path: String) -> Bool {
            directory == "/" || path == directory || path.hasPrefix(directory + "/")
        }
    }
}
