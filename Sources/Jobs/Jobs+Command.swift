import CJobs
import Glibc

extension Jobs {
    /// Runs a helper program (criu) to completion: stdin from /dev/null, stdout and stderr to
    /// `log`, its exit collected through the ``Reaper``. posix_spawn rather than Foundation's
    /// Process, which the agent's small static binary does without.
    public enum Command {
        public struct Failure: Error, Sendable, CustomStringConvertible {
            public var description: String
        }

        /// Spawns `arguments` (absolute program path first) and waits for it.
        public static func run(_ arguments: [String], log: String, directory: String? = nil) async throws(Failure) -> Exit {
            let pid = try spawn(arguments, log: log, directory: directory)
            return await Reaper.shared.exit(of: pid)
        }

        /// Spawns `arguments` without waiting; returns its pid.
        public static func spawn(_ arguments: [String], log: String, directory: String? = nil) throws(Failure) -> pid_t {
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            if let directory { cjobs_spawn_addchdir(&actions, directory) }
            cjobs_spawn_addclosefrom(&actions, 3)
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
            let status = Launcher.withCStrings(arguments) { cArguments in
                Launcher.withCStrings(Launcher.cleanEnvironment) { environment in
                    posix_spawn(&pid, arguments[0], &actions, &attributes, cArguments, environment)
                }
            }
            guard status == 0 else {
                throw Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(status)))")
            }
            return pid
        }
    }
}
