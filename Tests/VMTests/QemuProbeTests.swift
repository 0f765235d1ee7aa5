import Foundation
import Qemu
import Testing

@Suite struct QemuProbeTests {
    /// The probe boots a kernel under KVM and falls back to TCG when that aborts or hangs (as
    /// with broken nested KVM); either way it answers within its timeout.
    @Test func kvmProbeAnswersWithinItsTimeout() {
        let started = ContinuousClock.now
        var environment = ProcessInfo.processInfo.environment
        environment[Qemu.Accelerator.overrideVariable] = nil
        let accelerator = Qemu.Accelerator.probe(environment: environment, timeout: .seconds(8))
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(12))
        if access("/dev/kvm", R_OK | W_OK) != 0 { #expect(accelerator == .tcg) }
        print("KVM probe: \(accelerator) after \(elapsed)")
    }
}
