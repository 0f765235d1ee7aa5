import Glibc
import Processes
import NodeError

extension Jobs {
    /// Starts a job's process tree: `unshare --pid --fork --mount` makes a PID and a mount
    /// namespace whose init is `clusterd job-mounts` (as root: it leaves the job the node's
    /// root, a /proc of its own and the kept mounts, ``MountNamespace``, which CRIU needs to
    /// checkpoint an ordinary user's job), which becomes `setsid` (so the session leader is
    /// inside the namespace, which CRIU requires), which becomes `setpriv` dropping to the
    /// job's user, which execs the command. Each execs the next, so the command itself is PID 1
    /// of its namespace.
    ///
    /// The agent is the parent of `unshare`, which waits for the init and exits with its status;
    /// the agent reaps it (``Reaper``). util-linux's tools rather than a clone() in the agent:
    /// a multithreaded Swift process cannot safely fork-and-continue.
    ///
    /// **Environment.** `unshare`, `setsid`, `nice` and `setpriv` run as root, so they start
    /// with ``Processes/cleanEnvironment`` only: a caller's `LD_PRELOAD`, `GCONV_PATH` or `LD_LIBRARY_PATH`
    /// would otherwise run the caller's code as root. The caller's environment is applied by
    /// ``execHelper`` (`clusterd exec-job`), which `setpriv` starts as the job's user: it reads the
    /// environment from descriptor 3 (a root-only file the agent opened and unlinked) and execs
    /// the command with it, still PID 1 of the namespace.
    public struct Launcher: Sendable {
        /// Where `unshare`, `setsid` and `setpriv` are (util-linux, essential in Debian).
        public var toolDirectory = "/usr/bin"
        /// The program (and its leading arguments) that enters the job's directory and applies
        /// its environment after the drop to the user: `clusterd exec-job`. Nil: the agent's own
        /// executable.
        public var execHelper: [String]?

        /// The descriptor on which ``execHelper`` finds the job's environment.
        public static let environmentDescriptor: Int32 = 3

        public init(execHelper: [String]? = nil) {
            self.execHelper = execHelper
        }

        /// `clusterd exec-job`, from /proc/self/exe: the agent starts jobs through itself (a
        /// binary replaced in place reads `... (deleted)`; the path is what runs next).
        static func ownExecHelper() -> [String] {
            var buffer = [CChar](repeating: 0, count: 4096)
            let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
            var path = count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/usr/sbin/clusterd"
            if path.hasSuffix(" (deleted)") { path = String(path.dropLast(" (deleted)".count)) }
            return [path, "exec-job"]
        }

        /// Why a job could not start; `description` is a sentence for the user.
        public typealias Failure = NodeError

        /// The command line that starts `record`'s job. `agentNice` is the agent's own nice
        /// value (the unit raises its priority); the job gets it undone, so it runs at 0.
        public func arguments(for record: Record, userExists: Bool, agentNice: Int32 = 0) -> [String] {
            // --init-groups needs a passwd entry; a uid without one gets no supplementary groups.
            let groups = record.supplementaryGroups.map { $0.isEmpty ? "--clear-groups" : "--groups=" + $0.map(String.init).joined(separator: ",") }
                ?? (userExists ? "--init-groups" : "--clear-groups")
            let renice = agentNice == 0 ? [] : [toolDirectory + "/nice", "--adjustment=\(-agentNice)"]
            let helper = execHelper ?? Self.ownExecHelper()
            return [
                toolDirectory + "/unshare", "--pid", "--fork", "--mount", "--propagation", "private", "--",
                helper[0], "job-mounts", "--",
                toolDirectory + "/setsid",
            ] + renice + [
                toolDirectory + "/setpriv", "--reuid=\(record.uid)", "--regid=\(record.gid)", groups, "--",
            ] + helper + ["--directory", record.workingDirectory, "--"] + record.arguments
        }

        /// The environment file's bytes: each `NAME=value` followed by a NUL, as in
        /// /proc/PID/environ. Entries holding a NUL or lacking `=` are dropped.
        public static func encodeEnvironment(_ environment: [String]) -> [UInt8] {
            var bytes: [UInt8] = []
            for entry in environment where entry.contains("=") && !entry.utf8.contains(0) {
                bytes += entry.utf8
                bytes.append(0)
            }
            return bytes
        }

        /// The entries of an environment file (``encodeEnvironment(_:)``).
        public static func decodeEnvironment(_ bytes: [UInt8]) -> [String] {
            bytes.split(separator: 0).compactMap { entry in
                let text = String(decoding: entry, as: UTF8.self)
                return text.contains("=") ? text : nil
            }
        }

        /// Creates the job's output files (owned by its user) and spawns it. Returns the pid of
        /// `unshare` (a child of the caller).
        public func spawn(_ record: Record, layout: Layout) throws(Failure) -> pid_t {
            // Root may not see into a user's private NFS home (root_squash): only a directory
            // that is certainly missing is refused here; exec-job enters it as the user.
            var info = stat()
            if stat(record.workingDirectory, &info) != 0 ? errno != EACCES : (info.st_mode & S_IFMT) != S_IFDIR {
                throw Failure(description: "the working directory \(record.workingDirectory) does not exist on this node; run the job from a directory every node has (e.g. /tmp or an NFS home)")
            }
            for path in [layout.stdout(record.id), layout.stderr(record.id)] {
                let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
                guard descriptor >= 0 else { throw Failure(description: "cannot create \(path): \(Self.errorText())") }
                _ = fchown(descriptor, record.uid, record.gid)
                close(descriptor)
            }
            // The job's environment, for the exec helper on descriptor 3: written to a root-only
            // file that is unlinked once the helper holds it open, so no other user reads it.
            let environmentFile = layout.directory(record.id) + "/.environment"
            unlink(environmentFile)
            let environmentDescriptor = open(environmentFile, O_RDWR | O_CREAT | O_TRUNC | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard environmentDescriptor >= 0 else {
                throw Failure(description: "cannot create \(environmentFile): \(Self.errorText())")
            }
            defer {
                close(environmentDescriptor)
                unlink(environmentFile)
            }
            let environmentBytes = Self.encodeEnvironment(record.environment)
            let written = environmentBytes.withUnsafeBytes { write(environmentDescriptor, $0.baseAddress, $0.count) }
            guard written == environmentBytes.count else {
                throw Failure(description: "cannot write \(environmentFile): \(Self.errorText())")
            }
            let userExists = getpwuid(record.uid) != nil
            errno = 0
            let nice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            let argv = arguments(for: record, userExists: userExists, agentNice: errno == 0 ? nice : 0)

            // Nothing of the agent's leaks into a job (a control connection kept open by a job
            // would keep `cluster run` waiting until the job ends), but the environment file,
            // opened anew (read-only, at offset 0) as descriptor 3 (``environmentDescriptor``,
            // its place in the list). The job's tools start with default signal dispositions:
            // the agent ignores SIGPIPE (SwiftNIO), and a job must not inherit that.
            let pid: pid_t
            do {
                pid = try Processes.spawn(argv, descriptors: [
                    .open("/dev/null", flags: O_RDONLY),
                    .open(layout.stdout(record.id), flags: O_WRONLY | O_APPEND),
                    .open(layout.stderr(record.id), flags: O_WRONLY | O_APPEND),
                    .open(environmentFile, flags: O_RDONLY | O_NOFOLLOW),
                ])
            } catch {
                throw Failure(description: error.description)
            }
            return pid
        }

        /// The host pid of the namespace's init: the only child of `unshare`, which appears
        /// right after it forks. Nil if it does not appear within `attempts` × 10 ms, or when
        /// `unshare` has gone.
        public static func namespaceInit(of wrapper: pid_t, procRoot: String = "/proc", attempts: Int = 300) async -> pid_t? {
            for _ in 0..<attempts {
                guard let text = ProcFiles.read("\(procRoot)/\(wrapper)/task/\(wrapper)/children") else { return nil }
                if let first = text.split(separator: " ").first, let pid = pid_t(first.trimmingSpaces) {
                    return pid
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return nil
        }

        static func errorText() -> String { String(cString: strerror(errno)) }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while let last = text.last, last == " " || last == "\n" { text = text.dropLast() }
        while let first = text.first, first == " " || first == "\n" { text = text.dropFirst() }
        return text
    }
}
