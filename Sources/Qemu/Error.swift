extension Qemu {
    /// What went wrong while starting, watching or controlling a VM.
    public enum Error: Swift.Error, Sendable, CustomStringConvertible {
        /// No OVMF firmware at any of the listed paths.
        case firmwareMissing([String])
        /// QEMU could not be started at all.
        case launchFailed(String)
        /// The console never showed `pattern` before the deadline.
        case timedOut(pattern: String, waited: Duration, consoleLog: String, logTail: String)
        /// QEMU exited before the console showed `pattern`.
        case exitedEarly(pattern: String, status: Int32, consoleLog: String, logTail: String, stderr: String)
        /// A QMP socket operation failed (`operation` names the syscall or protocol step).
        case qmp(operation: String, message: String)
        /// QMP answered a command with an error object.
        case qmpCommandFailed(command: String, errorClass: String, description: String)
        /// Typing on the serial console failed (not connected, or the VM is interactive).
        case console(String)
        /// Talking to the guest agent over `socket` failed (connect, I/O, a reply we cannot read,
        /// or no reply before the deadline).
        case guestAgent(socket: String, message: String)
        /// The guest's kernel panicked or oopsed (`line`, from its serial console).
        case guestFailed(line: String, consoleLog: String)
        /// The guest agent answered a command with an error object.
        case guestAgentCommandFailed(command: String, errorClass: String, description: String)

        public var description: String {
            switch self {
            case .firmwareMissing(let paths):
                return "UEFI firmware not found (looked for \(paths.joined(separator: ", "))); install the Debian package 'ovmf'"
            case .launchFailed(let message):
                return "cannot start \(Qemu.systemBinary): \(message); install the Debian package 'qemu-system-x86'"
            case .timedOut(let pattern, let waited, let log, let tail):
                return "timed out after \(waited) waiting for \"\(pattern)\" on the serial console (\(log)); last lines:\n\(tail)"
            case .exitedEarly(let pattern, let status, let log, let tail, let stderr):
                let qemuErrors = stderr.isEmpty ? "" : "\nQEMU stderr:\n\(stderr)"
                return "QEMU exited (status \(status)) before \"\(pattern)\" appeared on the serial console (\(log)); last lines:\n\(tail)\(qemuErrors)"
            case .qmp(let operation, let message):
                return "QMP \(operation) failed: \(message)"
            case .console(let message):
                return "serial console input: \(message)"
            case .guestFailed(let line, let log):
                return "the guest's kernel failed: \(line) (console log \(log)). Under TCG a guest with several vCPUs now and then hits \"Oops: int3\" while its kernel patches its own code; boot again, or with one vCPU"
            case .qmpCommandFailed(let command, let errorClass, let description):
                return "QMP command '\(command)' failed: \(errorClass): \(description)"
            case .guestAgent(let socket, let message):
                return "guest agent (\(socket)): \(message)"
            case .guestAgentCommandFailed(let command, let errorClass, let description):
                return "guest agent command '\(command)' failed: \(errorClass): \(description)"
            }
        }
    }
}
