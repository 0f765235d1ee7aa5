import CJobs
import Glibc
import NodeError

extension Processes {
    /// Where one of a child's descriptors comes from.
    public enum Descriptor: Sendable, Equatable {
        /// open(2) of a path in the child, with `flags` and, when creating, `mode`.
        case open(String, flags: Int32, mode: mode_t = 0)
        /// A copy (dup2) of one of the child's descriptors set before it (stderr to stdout's file).
        case copy(of: Int32)
    }

    /// Why a process could not start; `description` is a sentence for the user.
    public typealias Failure = NodeError

    /// The whole environment of every helper that runs as root: a caller's `LD_PRELOAD`,
    /// `GCONV_PATH` or `LD_LIBRARY_PATH` would otherwise run the caller's code as root.
    public static let cleanEnvironment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]

    /// A helper's descriptors when all it says goes to one file: stdin from /dev/null, stdout
    /// and stderr appended to `log` (created 0600).
    public static func output(to log: String) -> [Descriptor] {
        [.open("/dev/null", flags: O_RDONLY), .open(log, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o600), .copy(of: 1)]
    }

    /// Starts `arguments` (absolute program path first) and returns its pid without waiting;
    /// wait for it with ``Reaper``.
    ///
    /// The child's descriptors are `descriptors`, as 0, 1, 2, … in order, and nothing else of
    /// this process (a control connection kept open by a child would keep its peer waiting).
    /// Its environment is `environment` alone; it enters `directory` after its descriptors are
    /// opened (relative paths in them are the caller's). It starts with default signal
    /// dispositions and an empty mask: the agent ignores SIGPIPE (SwiftNIO), and no child may
    /// inherit that.
    public static func spawn(
        _ arguments: [String], descriptors: [Descriptor], environment: [String] = cleanEnvironment, directory: String? = nil
    ) throws(Failure) -> pid_t {
        guard let program = arguments.first else { throw Failure(description: "no program to start") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (number, descriptor) in descriptors.enumerated() {
            switch descriptor {
            case .open(let path, let flags, let mode):
                posix_spawn_file_actions_addopen(&actions, Int32(number), path, flags, mode)
            case .copy(let source):
                posix_spawn_file_actions_adddup2(&actions, source, Int32(number))
            }
        }
        if let directory { cjobs_spawn_addchdir(&actions, directory) }
        cjobs_spawn_addclosefrom(&actions, Int32(descriptors.count))

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        let status = withCStrings(arguments) { cArguments in
            withCStrings(environment) { cEnvironment in
                posix_spawn(&pid, program, &actions, &attributes, cArguments, cEnvironment)
            }
        }
        guard status == 0 else {
            throw Failure(description: "cannot start \(program): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Runs a helper (criu, exportfs, mount) to completion: stdin from /dev/null, stdout and
    /// stderr to `log` (``output(to:)``), the clean environment, its exit from the ``Reaper``.
    public static func run(_ arguments: [String], log: String, directory: String? = nil) async throws(Failure) -> Exit {
        let pid = try spawn(arguments, descriptors: output(to: log), directory: directory)
        return await Reaper.shared.exit(of: pid)
    }

    /// `strings` as a NULL-terminated array of C strings, for posix_spawn and the exec family.
    public static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
