extension Migration {
    /// CRIU's command lines. The agent drives `criu` through its command line rather than its
    /// RPC interface (`criu swrk` and protobuf): every step (pre-dump, dump, restore) is a
    /// separate run anyway, the options are the ones an operator types when debugging, each run
    /// leaves its log in the images directory, and the static agent carries no protobuf runtime.
    public struct CRIU: Sendable, Equatable {
        public var program = "/usr/sbin/criu"

        public init() {}

        /// Options every dump-like run shares: the job's files as they are (no mount namespace),
        /// file locks, and unlinked-but-open files kept through link remaps.
        static let dumpOptions = ["--file-locks", "--link-remap", "-v2"]

        /// Copies the job's memory into `directory` while it keeps running, tracking what it
        /// dirties from now on; `previous` is the last round's directory (relative to this one).
        /// `mounts`: the job's kept mounts as externals (``Jobs/MountNamespace/dumpArguments(jobMountinfo:)``).
        /// `pageServer`: the memory goes to CRIU's page server over descriptor 3 (a socket the
        /// agent relays to the destination's ``pageServer(directory:previous:)``) instead of into
        /// `directory`, which then holds only the small images.
        public func preDump(pid: Int32, directory: String, previous: String?, mounts: [String] = [], pageServer: Bool = false) -> [String] {
            [program, "pre-dump", "--tree", String(pid), "--images-dir", directory, "--track-mem",
             "--log-file", "pre-dump.log"] + Self.dumpOptions + mounts + (previous.map { ["--prev-images-dir", $0] } ?? [])
                + (pageServer ? ["--page-server", "--ps-socket", "3"] : [])
        }

        /// The destination's page server for one pre-dump round: writes the memory that
        /// `criu pre-dump --page-server` sends over descriptor 3 (a socket the agent relays) into
        /// `directory` as that round's page map and pages, `previous` (relative to it) being the
        /// round before, whose pages a page the job has not written since stays in. It ends when
        /// the dump has flushed and closed its end.
        public func pageServer(directory: String, previous: String?) -> [String] {
            [program, "page-server", "--images-dir", directory, "--ps-socket", "3", "--log-file", "page-server.log", "-v2"]
                + (previous.map { ["--prev-images-dir", $0] } ?? [])
        }

        /// The final dump: freezes the job, writes what changed since `previous`, and leaves
        /// the tree stopped (not killed), so a failed migration can resume it with SIGCONT.
        /// `pageServer`: the memory goes to the destination's page server over descriptor 3, as
        /// the pre-dump rounds' did (``preDump(pid:directory:previous:mounts:pageServer:)``):
        /// only there are the page maps of `previous` that tell which pages it holds.
        public func dump(pid: Int32, directory: String, previous: String?, mounts: [String] = [], pageServer: Bool = false) -> [String] {
            [program, "dump", "--tree", String(pid), "--images-dir", directory, "--leave-stopped",
             "--log-file", "dump.log"] + Self.dumpOptions + mounts
                + (previous.map { ["--prev-images-dir", $0, "--track-mem"] } ?? [])
                + (pageServer ? ["--page-server", "--ps-socket", "3"] : [])
        }

        /// Post-copy's dump: freezes the job and writes everything but its anonymous memory,
        /// runs `hook` (an executable, with `CRTOOLS_SCRIPT_ACTION=post-dump`) once those images
        /// are complete, then serves the memory on descriptor 3 (a socket the agent relays) to
        /// the destination's lazy-pages daemon until it has every page. The tree stays stopped
        /// (`--leave-stopped`); if the connection fails before the last page, criu resumes it.
        public func lazyDump(pid: Int32, directory: String, hook: String, mounts: [String] = []) -> [String] {
            [program, "dump", "--tree", String(pid), "--images-dir", directory, "--leave-stopped", "--lazy-pages",
             "--ps-socket", "3", "--action-script", hook, "--log-file", "dump.log"] + Self.dumpOptions + mounts
        }

        /// The destination's lazy-pages daemon for the images in `directory`: it takes the
        /// restored tree's userfaultfds from `criu restore --lazy-pages` (a UNIX socket in
        /// `directory`), and fetches each page the job touches, then every other, from the
        /// source over descriptor 3 (a socket the agent relays). It writes a byte to descriptor
        /// 4 when it is ready for the restore.
        public func lazyPages(directory: String) -> [String] {
            [program, "lazy-pages", "--images-dir", directory, "--page-server", "--ps-socket", "3", "--status-fd", "4",
             "--log-file", "lazy-pages.log", "-v2"]
        }

        /// Restores the tree from `directory`, detached, stopped until the source confirms
        /// (SIGCONT then), writing the restored init's host pid to `pidFile`.
        /// `mounts`: the new mount namespace's root and kept mounts, when the images hold one
        /// (``Jobs/MountNamespace/restoreArguments(root:)``).
        /// `lazy`: the anonymous memory comes from the lazy-pages daemon (``lazyPages(directory:)``).
        public func restore(directory: String, pidFile: String, mounts: [String] = [], lazy: Bool = false) -> [String] {
            [program, "restore", "--images-dir", directory, "--restore-detached", "--leave-stopped",
             "--pidfile", pidFile, "--log-file", "restore.log", "--file-locks", "--link-remap", "-v2"]
                + (lazy ? ["--lazy-pages"] : []) + mounts
        }

        /// Writes this CPU's features to `directory`/cpuinfo.img.
        public func cpuinfoDump(directory: String) -> [String] {
            [program, "cpuinfo", "dump", "--images-dir", directory, "--log-file", "cpuinfo-dump.log"]
        }

        /// Checks that a job dumped where `directory`/cpuinfo.img was made can run on this CPU.
        public func cpuinfoCheck(directory: String) -> [String] {
            [program, "cpuinfo", "check", "--images-dir", directory, "--log-file", "cpuinfo-check.log"]
        }

        /// Prints criu's version ("Version: 4.1.1").
        public func version() -> [String] {
            [program, "--version"]
        }

        /// The version `criu --version` printed: major and minor, or nil.
        public static func version(fromOutput text: String) -> (major: Int, minor: Int)? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Version: ") }) else { return nil }
            let parts = line.dropFirst("Version: ".count).split(separator: ".")
            guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1].prefix { $0.isNumber }) else { return nil }
            return (major, minor)
        }

        /// Whether CRIU can checkpoint and restore on this kernel at all.
        public func check() -> [String] {
            [program, "check"]
        }

        /// A criu run that exited with an error, with what its log said.
        public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
            public enum Kind: Sendable, Equatable {
                /// A process or thread of the tree exited while CRIU seized it (ESRCH): the
                /// same step, run again, sees the tree as it is now.
                case processVanished
                case other
            }

            /// criu's first argument: `dump`, `pre-dump`, `restore`, `cpuinfo`, `check`.
            public var step: String
            /// How it ended: "exit status 1", "signal 9".
            public var exit: String
            /// What the log said: its last three lines naming an error, or its tail.
            public var excerpt: String
            public var kind: Kind

            /// Classifies a run from the text of its log.
            public init(step: String, exit: String, log: String) {
                self.step = step
                self.exit = exit
                let errors = log.split(separator: "\n").filter { $0.contains("Error") }.suffix(3).joined(separator: " | ")
                excerpt = errors.isEmpty ? String(log.suffix(400)) : errors
                kind = log.contains("No such process") ? .processVanished : .other
            }

            public var description: String { "criu \(step) failed (\(exit)): \(excerpt)" }
        }
    }
}
