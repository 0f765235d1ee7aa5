import Foundation
import Logging
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
        /// `LIVEBUILD_ACCEL=tcg|kvm` wins. Otherwise KVM is used only if a short probe boot with
        /// `accel=kvm -cpu host` reaches SeaBIOS's boot stage: a present /dev/kvm is not enough
        /// (nested KVM can abort on MSR writes or hang). The probe runs once per process, blocks
        /// for up to `timeout`, and its result is cached.
        public static func probe(
            qemu: String = Qemu.systemBinary,
            environment: [String: String] = ProcessInfo.processInfo.environment,
            timeout: Duration = .seconds(5),
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

        /// The command line of the probe boot: firmware only, no disks; SeaBIOS's debug output
        /// goes to `debugLog`, where it prints "Booting from ..." once POST is done.
        static func probeArguments(debugLog: String) -> [String] {
            [
                "-nodefaults", "-no-user-config",
                "-machine", "q35,accel=kvm", "-cpu", "host", "-m", "64",
                "-display", "none", "-no-reboot",
                "-debugcon", "file:\(Qemu.Machine.escape(debugLog))",
                "-global", "isa-debugcon.iobase=0x402",
            ]
        }

        private static func runProbe(qemu: String, timeout: Duration, logger: Logger) -> Accelerator {
            guard access("/dev/kvm", R_OK | W_OK) == 0 else {
                logger.debug("KVM probe: /dev/kvm is not usable; using TCG")
                return .tcg
            }
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("livebuild-kvm-probe-\(UUID().uuidString)")
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let debugLog = directory.appendingPathComponent("seabios.log").path

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [qemu] + probeArguments(debugLog: debugLog)
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do { try process.run() } catch {
                logger.debug("KVM probe: cannot start \(qemu): \(error); using TCG")
                return .tcg
            }
            defer {
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                }
            }
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let text = try? String(contentsOfFile: debugLog, encoding: .isoLatin1),
                   text.contains("Booting from") || text.contains("No bootable device") {
                    logger.debug("KVM probe: firmware ran under KVM; using KVM")
                    return .kvm
                }
                if !process.isRunning {
                    logger.debug("KVM probe: QEMU exited with status \(process.terminationStatus); using TCG")
                    return .tcg
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            logger.debug("KVM probe: no firmware output within \(timeout); using TCG")
            return .tcg
        }
    }
}
