extension Qemu {
    /// A virtual x86-64 machine: hardware, firmware and attached media.
    ///
    /// A plain value: `arguments(session:)` turns it into a QEMU command line without touching
    /// the filesystem, so every boot mode is unit-testable.
    public struct Machine: Sendable, Hashable {
        /// Guest memory in MiB.
        public var memoryMiB: Int
        /// Number of virtual CPUs.
        public var cpus: Int
        /// BIOS (SeaBIOS) or UEFI (OVMF).
        public var firmware: Firmware
        /// Attached media; the first one gets `bootindex=0` and is booted first.
        public var media: [Medium]
        /// KVM or TCG; see `Accelerator.probe()` for picking one.
        public var accelerator: Accelerator
        /// When true (the default) a guest reboot makes QEMU exit (`-no-reboot`), so a kernel
        /// panic with `panic=-1` ends the run instead of looping.
        public var exitOnReboot: Bool
        /// Arguments appended verbatim after everything else (devices, `-netdev`, ...).
        public var extraArguments: [String]
        /// Boot this kernel and initramfs directly (QEMU's `-kernel`), skipping firmware boot
        /// loaders; media are still attached, after it in boot order.
        public var directKernel: DirectKernel?
        /// Network cards, in order (the first is `net0`). Empty: no network at all (`-nic none`).
        public var network: [NetworkInterface]
        /// The SMBIOS system serial number (`-smbios type=1,serial=...`, the guest's DMI
        /// `product_serial`); nil leaves QEMU's default (empty).
        public var smbiosSerial: String?

        public init(
            memoryMiB: Int = 1024,
            cpus: Int = 1,
            firmware: Firmware = .bios,
            media: [Medium] = [],
            accelerator: Accelerator = .tcg,
            exitOnReboot: Bool = true,
            extraArguments: [String] = [],
            directKernel: DirectKernel? = nil,
            network: [NetworkInterface] = [],
            smbiosSerial: String? = nil
        ) {
            self.network = network
            self.smbiosSerial = smbiosSerial
            self.directKernel = directKernel
            self.memoryMiB = memoryMiB
            self.cpus = cpus
            self.firmware = firmware
            self.media = media
            self.accelerator = accelerator
            self.exitOnReboot = exitOnReboot
            self.extraArguments = extraArguments
        }
    }

    /// A kernel booted directly by QEMU, with its initramfs and command line.
    public struct DirectKernel: Sendable, Hashable {
        public var kernel: String
        public var initramfs: String
        public var commandLine: String

        public init(kernel: String, initramfs: String, commandLine: String) {
            self.kernel = kernel
            self.initramfs = initramfs
            self.commandLine = commandLine
        }
    }
}
