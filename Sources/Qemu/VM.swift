import Foundation
import Logging
import Processes
import Synchronization

extension Qemu {
    /// A running `qemu-system-x86_64` with its serial console logged to a file.
    ///
    /// The VM owns a private run directory (QMP socket, UEFI variable store copy, QEMU's own
    /// stderr) that it deletes when it goes away. Dropping the last reference kills QEMU.
    public final class VM: @unchecked Sendable {
        // @unchecked: the QMP client and the console input keep their own locks; `process`
        // (Processes.Child) is Sendable.

        public let machine: Machine
        /// The serial console log file; kept after the VM is gone.
        public let consoleLog: String
        /// Private directory holding the QMP socket, the UEFI vars copy and QEMU's stderr.
        public let runDirectory: String
        /// The serial console's input socket (nil for interactive VMs); see `VM+Console.swift`.
        let consoleSocketPath: String?
        let consoleInput = ConsoleInput()
        /// The full command line QEMU was started with (program first).
        public let commandLine: [String]

        private let process: Processes.Child
        private let qmpClient: QMPClient
        private let stderrPath: String
        private let logger: Logger

        /// Starts `machine`.
        ///
        /// - Parameters:
        ///   - consoleLog: file for the serial console (created or truncated).
        ///   - interactive: also connect the console to this process's terminal.
        ///   - namespace: run QEMU in this network namespace (`ip netns exec`), for tap devices
        ///     that live there.
        public init(
            machine: Machine,
            consoleLog: String,
            interactive: Bool = false,
            qemu: String = Qemu.systemBinary,
            namespace: String? = nil,
            logger: Logger = Logger(label: "livebuild.qemu")
        ) throws(Qemu.Error) {
            self.machine = machine
            self.consoleLog = consoleLog
            self.logger = logger
            guard let executable = Self.locate(qemu) else {
                throw .launchFailed("\(qemu) not found on PATH")
            }

            // Unix socket paths are limited to 107 bytes: keep the run directory short.
            var template = Array("/tmp/livebuild-vm-XXXXXX".utf8CString)
            guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw .launchFailed("cannot create a run directory in /tmp: \(String(cString: strerror(errno)))")
            }
            runDirectory = String(cString: created)
            stderrPath = runDirectory + "/qemu.stderr"
            let qmpPath = runDirectory + "/qmp.sock"
            qmpClient = QMPClient(socketPath: qmpPath)

            let fileManager = FileManager.default
            var uefiVars: String?
            if case .uefi(let ovmf) = machine.firmware {
                let copy = runDirectory + "/OVMF_VARS.fd"
                do {
                    try fileManager.copyItem(atPath: ovmf.varsTemplate, toPath: copy)
                } catch {
                    try? fileManager.removeItem(atPath: runDirectory)
                    throw .firmwareMissing([ovmf.varsTemplate])
                }
                uefiVars = copy
            }
            let logDirectory = (consoleLog as NSString).deletingLastPathComponent
            if !logDirectory.isEmpty {
                try? fileManager.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
            }
            _ = fileManager.createFile(atPath: consoleLog, contents: nil)
            _ = fileManager.createFile(atPath: stderrPath, contents: nil)

            consoleSocketPath = interactive ? nil : runDirectory + "/console.sock"
            let session = Session(consoleLog: consoleLog, consoleOnTerminal: interactive, qmpSocket: qmpPath, uefiVars: uefiVars,
                                  consoleSocket: consoleSocketPath)
            var command = [executable] + machine.arguments(session: session)
            if let namespace {
                // `ip netns exec` enters the network namespace and execs QEMU (same pid), so
                // QEMU opens its tap devices there.
                guard let ip = Self.locate("ip") ?? ["/usr/sbin/ip", "/sbin/ip", "/bin/ip"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                    try? fileManager.removeItem(atPath: runDirectory)
                    throw .launchFailed("ip (iproute2) not found; apt-get install iproute2")
                }
                command = [ip, "netns", "exec", namespace] + command
            }
            commandLine = command
            // QEMU sees this process's environment; a console on the terminal keeps 0-2.
            let descriptors: [Processes.Descriptor] = interactive
                ? [.copy(of: 0), .copy(of: 1), .copy(of: 2)]
                : [.open("/dev/null", flags: O_RDONLY), .open("/dev/null", flags: O_WRONLY), .open(stderrPath, flags: O_WRONLY | O_APPEND)]
            logger.debug("starting VM", metadata: ["command": "\(commandLine.joined(separator: " "))"])
            do {
                process = try Processes.Child(command, descriptors: descriptors, environment: Processes.inheritedEnvironment())
            } catch {
                try? fileManager.removeItem(atPath: runDirectory)
                throw .launchFailed("\(error)")
            }
        }

        deinit {
            consoleInput.close()
            kill()
            qmpClient.disconnect()
            try? FileManager.default.removeItem(atPath: runDirectory)
        }

        /// QEMU's process id.
        public var processIdentifier: Int32 { process.pid }

        /// Whether QEMU is still running.
        public var isRunning: Bool { process.isRunning }

        /// QEMU's exit status, nil while it runs.
        public var exitStatus: Int32? { process.exit.map(Self.status) }

        /// An exit as Foundation's `terminationStatus` gave it: the code, or the signal number.
        static func status(_ exit: Processes.Exit) -> Int32 {
            switch exit {
            case .exited(let code): code
            case .signaled(let signal): signal
            }
        }

        /// What QEMU wrote to stderr so far (empty for interactive VMs).
        public var qemuStandardError: String {
            (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        }

        /// Everything on the serial console so far (invalid UTF-8 replaced).
        public func consoleText() -> String {
            guard let data = FileManager.default.contents(atPath: consoleLog) else { return "" }
            return String(decoding: data, as: UTF8.self)
        }

        /// Console lines showing a kernel panic or oops; see `ConsoleLog.failureMarkers`.
        public func consoleFailures() -> [String] {
            ConsoleLog.failures(in: consoleText())
        }

        /// Sends a QMP command and returns its `return` value.
        @discardableResult
        public func qmp(_ command: String, arguments: [String: JSONValue] = [:], timeout: Duration = .seconds(10)) throws(Qemu.Error) -> JSONValue {
            try qmpClient.execute(command, arguments: arguments, timeout: timeout)
        }

        /// Opens the tray of a CD drive (by its `Medium.id`), even if the guest locked it.
        public func eject(device id: String, force: Bool = true) throws(Qemu.Error) {
            try qmp("eject", arguments: ["id": .string(id), "force": .bool(force)])
        }

        /// Waits until QEMU exits; returns its status. Polls, for at most `timeout` if given.
        @discardableResult
        public func waitForExit(timeout: Duration? = nil) async throws -> Int32? {
            try await process.waitForExit(timeout: timeout).map(Self.status)
        }

        /// Stops the VM: QMP `quit`, then SIGTERM, then SIGKILL, each given part of `timeout`.
        public func stop(timeout: Duration = .seconds(6)) async {
            guard process.isRunning else { return }
            _ = try? qmp("quit", timeout: timeout / 3)
            if (try? await waitForExit(timeout: timeout / 3)) ?? nil != nil { return }
            process.signal(SIGTERM)
            if (try? await waitForExit(timeout: timeout / 3)) ?? nil != nil { return }
            kill()
        }

        static func locate(_ program: String) -> String? {
            if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            return path.split(separator: ":").lazy.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }

        /// Kills QEMU at once (SIGKILL) and reaps it.
        public func kill() {
            guard process.isRunning else { return }
            process.signal(SIGKILL)
            process.waitUntilExit()
        }
    }
}
