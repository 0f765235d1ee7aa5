import Foundation
import Logging

extension Qemu {
    /// How `livebuild bench boot` boots an image: the four ways a hybrid ISO boots.
    public enum BootMode: String, Sendable, CaseIterable, Codable {
        case biosCD = "bios-cd", biosUSB = "bios-usb", uefiCD = "uefi-cd", uefiUSB = "uefi-usb"

        public var isUEFI: Bool { self == .uefiCD || self == .uefiUSB }
        public var isCD: Bool { self == .biosCD || self == .uefiCD }

        /// The machine: `cpus` vCPUs, `memoryMiB`, the image as a CD or a USB stick, no network
        /// card (`-nic none`), the accelerator given (TCG on the project's hosts).
        public func machine(image: String, cpus: Int, memoryMiB: Int, accelerator: Accelerator) throws(Qemu.Error) -> Machine {
            Machine(
                memoryMiB: memoryMiB, cpus: cpus,
                firmware: isUEFI ? .uefi(try OVMF.installed()) : .bios,
                media: [isCD ? .cdrom(image) : .usbStick(image)],
                accelerator: accelerator)
        }
    }

    /// One boot, measured: the phases off the console, and what systemd-analyze says once a
    /// shell is logged in on the console (livebuild's images log root in on ttyS0).
    public struct BootMeasurement: Sendable, Codable {
        public var mode: BootMode
        public var timeline: BootTimeline
        /// systemd-analyze's kernel (with the initramfs) and userspace seconds, guest clock.
        public var kernelSeconds: Double?
        public var userspaceSeconds: Double?
        /// `systemd-analyze critical-chain` and the slowest units of `systemd-analyze blame`.
        public var criticalChain: String?
        public var blame: [String]?
        public var consoleLog: String
    }

    /// Boots `machine` and measures it until the login prompt (``BootTimeline``), then, when a
    /// root shell appears on the console within 20 s, asks systemd-analyze where userspace's
    /// time went. The VM is stopped before this returns or throws; its console stays in
    /// `consoleLog`. Throws ``Qemu/Error/timedOut(pattern:waited:consoleLog:logTail:)`` when
    /// `login:` does not show within `timeout`, and ``Qemu/Error/exitedEarly(pattern:status:consoleLog:logTail:stderr:)``
    /// when QEMU ends first.
    public static func measureBoot(
        mode: BootMode, machine: Machine, consoleLog: String, timeout: Duration, analyze: Bool = true,
        logger: Logger = Logger(label: "livebuild.qemu")
    ) async throws -> BootMeasurement {
        let vm = try VM(machine: machine, consoleLog: consoleLog, logger: logger)
        let started = ContinuousClock.now
        var timeline = BootTimeline()
        do {
            while true {
                let exited = !vm.isRunning  // before reading, so a last line is not missed
                let text = vm.consoleText()
                let elapsed = ContinuousClock.now - started
                timeline.record(text, at: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                if timeline.reachedLogin { break }
                // A guest that panicked never reaches login (the image's kernel command line need
                // not say panic=-1, so QEMU would run on): stop at once and say why.
                if let failure = ConsoleLog.failures(in: text).first {
                    throw Qemu.Error.guestFailed(line: failure, consoleLog: consoleLog)
                }
                if exited {
                    throw Qemu.Error.exitedEarly(pattern: "login:", status: vm.exitStatus ?? -1, consoleLog: consoleLog,
                                                 logTail: ConsoleLog.tail(of: text), stderr: vm.qemuStandardError)
                }
                if elapsed >= timeout {
                    throw Qemu.Error.timedOut(pattern: "login:", waited: elapsed, consoleLog: consoleLog, logTail: ConsoleLog.tail(of: text))
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            var measurement = BootMeasurement(mode: mode, timeline: timeline, consoleLog: consoleLog)
            if analyze, (try? await vm.waitFor(pattern: "root@", timeout: .seconds(20))) != nil {
                let summary = try await vm.shell("systemd-analyze --no-pager", timeout: .seconds(120))
                if let startup = startupFinished(summary.output) {
                    measurement.kernelSeconds = startup.kernel
                    measurement.userspaceSeconds = startup.userspace
                }
                let chain = try await vm.shell("systemd-analyze critical-chain --no-pager | sed 's/\\x1b\\[[0-9;]*m//g'", timeout: .seconds(120))
                measurement.criticalChain = chain.output.trimmingCharacters(in: .whitespacesAndNewlines)
                let blame = try await vm.shell("systemd-analyze blame --no-pager | head -n 12", timeout: .seconds(120))
                measurement.blame = blame.output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            }
            await vm.stop()
            return measurement
        } catch {
            await vm.stop()
            throw error
        }
    }
}
