import Foundation
import LiveBuild
import Qemu
import Testing

/// The QEMU harness's own failures, on the small test ISO (VMFixture): a pattern that never
/// appears times out naming the pattern and showing the console's tail, and a QEMU that exits
/// at once is reported with its stderr. (The ISO's four boot modes are LiveBootTests, on the
/// default profile's real image.)
@Suite(.serialized) struct QemuHarnessTests {
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
