import Glibc
import Processes

extension Jobs {
    /// The last step of a job's launch (`clusterd exec-job --directory DIR -- COMMAND...`), running
    /// as the job's user after `setpriv` dropped root: enters the job's directory (as the user, so
    /// a private NFS home under root_squash works), applies the job's environment, read from descriptor 3
    /// (``Launcher/environmentDescriptor``), and execs the command, which so stays PID 1 of its
    /// namespace. Everything before this step ran as root with ``Processes/cleanEnvironment``.
    public enum ExecHelper {
        /// Largest environment accepted (the control socket takes 256 KiB per request).
        public static let maxEnvironment = 1 << 20

        /// Execs `arguments` with the environment from descriptor 3; returns only on failure,
        /// with the exit status a shell would give (126 not executable, 127 not found).
        public static func run(_ arguments: [String], directory: String?) -> Int32 {
            guard let program = arguments.first else {
                report("exec-job: no command given")
                return 2
            }
            if let directory, chdir(directory) != 0 {
                report("cannot enter the working directory \(directory): \(String(cString: strerror(errno)))")
                return 126
            }
            let environment = readEnvironment()
            clearenv()
            for entry in environment {
                // putenv keeps the pointer: the strings live until exec replaces the process.
                _ = putenv(strdup(entry))
            }
            Processes.resetSignalsForExec()
            _ = Processes.withCStrings(arguments) { argv in execvp(program, argv) }
            let code = errno
            report("cannot run \(program): \(String(cString: strerror(code)))")
            return code == ENOENT ? 127 : 126
        }

        /// The environment file on descriptor 3, then the descriptor closed; empty if absent.
        static func readEnvironment() -> [String] {
            let descriptor = Launcher.environmentDescriptor
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { return [] }
            defer { close(descriptor) }
            guard (info.st_mode & S_IFMT) == S_IFREG else { return [] }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while bytes.count < maxEnvironment {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                bytes += buffer[0..<count]
            }
            return Launcher.decodeEnvironment(Array(bytes.prefix(maxEnvironment)))
        }

        private static func report(_ text: String) {
            let line = Array("cluster: \(text)\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }
}
