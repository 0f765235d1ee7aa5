import Foundation
import Logging
import Processes
import Synchronization

extension Qemu {
    /// How QEMU executes guest code.
    public enum Accelerator: String, Sendable, Hashable, CaseIterable {
        /// Hardware virtualisation through /dev/kvm (`-cpu host`).
        case kvm
        /// QEMU's software emulator (`-cpu max`): slow, but works everywhere.
        case tcg

        /// The `-cpu` model that fits the accelerator.
        public var cpuModel: String {
            switch self {
            case .kvm: "host"
            case .tcg: "max"
            }
        }

        /// Environment variable that overrides probing: `tcg` or `kvm`.
        public static let overrideVariable = "LIVEBUILD_ACCEL"

        private static let cache = Mutex<Accelerator?>(nil)

        /// The accelerator to use on this host.
        ///
        /// `LIVEBUILD_ACCEL=tcg|kvm` wins. Otherwise KVM is used only if a Linux kernel boots
        /// under `accel=kvm -cpu host` to its last word (the panic for want of a root
        /// filesystem) within `timeout`: a present /dev/kvm is not enough, and neither is
        /// firmware that runs (nested KVM can abort on MSR writes, or run SeaBIOS and then hang
        /// in the kernel's early boot, as on this project's build hosts). The kernel is the
        /// newest readable /boot/vmlinuz-* (Debian's linux-image-amd64, which libguestfs needs
        /// too); with none, TCG. The probe runs once per process, blocks for up to `timeout`
        /// (about a second where KVM works), and its result is cached.
        public static func probe(
            qemu: String = Qemu.systemBinary,
            environment: [String: String] = ProcessInfo.processInfo.environment,
            timeout: Duration = .seconds(8),
            logger: Logger = Logger(label: "livebuild.qemu")
        ) -> Accelerator {
            if let forced = environment[overrideVariable].flatMap({ Accelerator(rawValue: $0.lowercased()) }) {
                return forced
            }
            if let cached = cache.withLock({ $0 }) { return cached }
            let result = runProbe(qemu: qemu, timeout: timeout, logger: logger)
            cache.withLock { $0 = result }
            return result
        }

        /// The command line of the probe boot: `kernel` with no root filesystem, its console on
        /// `serialLog`, where it ends with "Kernel panic" once it has set up every CPU feature
        /// and device it uses; `panic=-1` with `-no-reboot` then ends QEMU.
        static func probeArguments(kernel: String, serialLog: String) -> [String] {
            [
                "-nodefaults", "-no-user-config",
                "-machine", "q35,accel=kvm", "-cpu", "host", "-m", "256",
                "-display", "none", "-no-reboot",
                "-serial", "file:\(Qemu.Machine.escape(serialLog))",
                "-kernel", kernel,
                "-append", "console=ttyS0 panic=-1 root=/dev/livebuild-kvm-probe",
            ]
        }

        /// The newest readable kernel under `directory` (`vmlinuz-VERSION`, by version).
        static func probeKernel(directory: String = "/boot") -> String? {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            return names.filter { $0.hasPrefix("vmlinuz-") }
                .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
                .map { directory + "/" + $0 }
                .last { access($0, R_OK) == 0 }
        }

        private static func runProbe(qemu: String, timeout: Duration, logger: Logger) -> Accelerator {
            guard access("/dev/kvm", R_OK | W_OK) == 0 else {
                logger.debug("KVM probe: /dev/kvm is not usable; using TCG")
                return .tcg
            }
            guard let kernel = probeKernel() else {
                logger.info("KVM probe: no kernel under /boot to test KVM with (apt-get install linux-image-amd64); using TCG")
                return .tcg
            }
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("livebuild-kvm-probe-\(UUID().uuidString)")
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let serialLog = directory.appendingPathComponent("console.log").path

            let process: Processes.Child
            do {
                process = try Processes.Child(
                    ["/usr/bin/env", qemu] + probeArguments(kernel: kernel, serialLog: serialLog),
                    descriptors: [.open("/dev/null", flags: O_RDONLY), .open("/dev/null", flags: O_WRONLY), .open("/dev/null", flags: O_WRONLY)],
                    environment: Processes.inheritedEnvironment())
            } catch {
                logger.debug("KVM probe: cannot start \(qemu): \(error); using TCG")
                return .tcg
            }
            defer {
                if process.isRunning {
                    process.signal(SIGKILL)
                    process.waitUntilExit()
                }
            }
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                // Whether QEMU had exited before the log was read: it exits right after the panic.
                let exit = process.exit
                if let text = try? String(contentsOfFile: serialLog, encoding: .isoLatin1), text.contains("Kernel panic") {
                    logger.debug("KVM probe: \(kernel) booted under KVM; using KVM")
                    return .kvm
                }
                if let exit {
                    logger.debug("KVM probe: QEMU exited (\(exit)) before the kernel finished; using TCG")
                    return .tcg
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            logger.info("KVM probe: \(kernel) did not boot under KVM within \(timeout) (broken nested KVM?); using TCG")
            return .tcg
        }
    }
}
