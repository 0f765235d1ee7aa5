/// Booting images in QEMU: the machine description and its command line (`Qemu.Machine`),
/// accelerator detection (`Qemu.Accelerator`), UEFI firmware files (`Qemu.OVMF`), a runner
/// that keeps the serial console log and speaks QMP (`Qemu.VM`), and a client of the guest
/// agent that runs commands inside a guest (`Qemu.GuestAgent`).
///
/// Only `qemu-system-x86_64` is supported. Machines never get a network device unless a caller
/// adds one explicitly through `Machine.network`.
public enum Qemu {
    /// The emulator binary, looked up on `PATH`.
    public static let systemBinary = "qemu-system-x86_64"
}
