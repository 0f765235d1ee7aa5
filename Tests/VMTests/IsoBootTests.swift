import Foundation
import LiveBuild
import Qemu
import Testing

/// Boots the hybrid ISO in QEMU the four ways a user can: BIOS or UEFI, from CD or from the
/// image written to a USB stick. Serialized: each boot keeps a host core busy under TCG.
@Suite(.serialized) struct IsoBootTests {
    enum BootMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case biosCD = "bios-cd"
        case biosUSB = "bios-usb"
        case uefiCD = "uefi-cd"
        case uefiUSB = "uefi-usb"

        var testDescription: String { rawValue }
        var isUEFI: Bool { self == .uefiCD || self == .uefiUSB }
        var isCD: Bool { self == .biosCD || self == .uefiCD }
    }

    static let bootDeadline: Duration = .seconds(180)

    @Test(.serialized, arguments: BootMode.allCases)
    func boots(mode: BootMode) async throws {
        let iso = try await VMFixture.shared.iso()
        let machine = Qemu.Machine(
            memoryMiB: 512,
            cpus: 1,
            firmware: mode.isUEFI ? .uefi(try Qemu.OVMF.installed()) : .bios,
            media: [mode.isCD ? .cdrom(iso) : .usbStick(iso)],
            accelerator: Qemu.Accelerator.probe())
        let log = VMFixture.logDirectory + "/iso-boot-\(mode.rawValue).log"
        let vm = try Qemu.VM(machine: machine, consoleLog: log)
        let started = ContinuousClock.now
        defer {
            vm.kill()
            let failures = vm.consoleFailures()
            #expect(failures.isEmpty, "kernel failure on the console (\(log)):\n\(failures.joined(separator: "\n"))")
        }

        // The menu is drawn on the serial console by isolinux (BIOS) or GRUB (UEFI).
        try await vm.waitFor(pattern: VMFixture.menuTitle, deadline: started + Self.bootDeadline)
        try await vm.waitFor(pattern: VMFixture.entryLabel, deadline: started + Self.bootDeadline)
        let menuShown = ContinuousClock.now - started

        let reached = try await vm.waitFor(pattern: VMFixture.initMarker, deadline: started + Self.bootDeadline)
        #expect(reached.line.contains("console=ttyS0,115200"))
        print("VM boot \(mode.rawValue): menu after \(menuShown), /init after \(ContinuousClock.now - started); log: \(log)")

        // QMP works on the running machine: the medium can be ejected (toram needs this).
        let status = try vm.qmp("query-status")
        #expect(status["status"]?.stringValue == "running")
        if mode.isCD {
            try vm.eject(device: "cd0")
            let blocks = try vm.qmp("query-block")
            guard case .array(let devices) = blocks,
                  let cd = devices.first(where: { $0["qdev"]?.stringValue?.contains("cd0") == true }) else {
                Issue.record("query-block did not list cd0: \(blocks)")
                return
            }
            #expect(cd["inserted"] == nil, "the CD is still inserted after eject: \(cd)")
        }
        await vm.stop()
        #expect(!vm.isRunning)
    }

    @Test func waitTimeoutNamesThePatternAndShowsTheLogTail() async throws {
        let iso = try await VMFixture.shared.iso()
        let machine = Qemu.Machine(memoryMiB: 256, media: [.cdrom(iso)], accelerator: Qemu.Accelerator.probe())
        let log = VMFixture.logDirectory + "/wait-timeout.log"
        let vm = try Qemu.VM(machine: machine, consoleLog: log)
        defer { vm.kill() }
        try await vm.waitFor(pattern: "ISOLINUX", timeout: .seconds(60))
        do {
            try await vm.waitFor(pattern: "NEVER-PRINTED", timeout: .milliseconds(500))
            Issue.record("waitFor returned for a pattern that never appears")
        } catch let error as Qemu.Error {
            guard case .timedOut(let pattern, _, let consoleLog, let tail) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(pattern == "NEVER-PRINTED")
            #expect(consoleLog == log)
            #expect(tail.contains("ISOLINUX"))
            #expect(error.description.contains("NEVER-PRINTED"))
        }
    }

    @Test func qemuExitingEarlyIsReportedWithItsStderr() async throws {
        let machine = Qemu.Machine(memoryMiB: 64, accelerator: .tcg, extraArguments: ["-no-such-option"])
        let vm = try Qemu.VM(machine: machine, consoleLog: VMFixture.logDirectory + "/exit-early.log")
        await #expect {
            try await vm.waitFor(pattern: "anything", timeout: .seconds(30))
        } throws: { error in
            guard case .exitedEarly(_, let status, _, _, let stderr) = error as? Qemu.Error else { return false }
            return status != 0 && stderr.contains("no-such-option")
        }
    }
}
