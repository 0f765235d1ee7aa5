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

        public init(
            memoryMiB: Int = 1024,
            cpus: Int = 1,
            firmware: Firmware = .bios,
            media: [Medium] = [],
            accelerator: Accelerator = .tcg,
            exitOnReboot: Bool = true,
            extraArguments: [String] = []
        ) {
            self.memoryMiB = memoryMiB
            self.cpus = cpus
            self.firmware = firmware
            self.media = media
            self.accelerator = accelerator
            self.exitOnReboot = exitOnReboot
            self.extraArguments = extraArguments
        }
    }

    /// The firmware a machine starts.
    public enum Firmware: Sendable, Hashable {
        /// SeaBIOS, QEMU's built-in default.
        case bios
        /// OVMF: its code as read-only pflash, its variable store as writable pflash.
        case uefi(OVMF)
    }

    /// A medium attached to the machine.
    public struct Medium: Sendable, Hashable {
        /// How the medium is connected.
        public enum Attachment: String, Sendable, Hashable, CaseIterable {
            /// An ATAPI CD-ROM (`ide-cd`, on the q35 AHCI controller): an ISO as a disc.
            case cdrom
            /// A USB mass-storage stick (`usb-storage` on a `qemu-xhci` controller): an ISO
            /// written raw to a USB stick.
            case usbStick
            /// A virtio-blk disk: the fallback when a firmware cannot boot from USB.
            case virtioDisk
        }

        public var attachment: Attachment
        /// Image file on the host, used as a raw image.
        public var path: String
        /// QEMU device id (the drive is `<id>-drive`); QMP commands such as `eject` name it.
        public var id: String
        /// Attach read-only, so the guest cannot change the image.
        public var readOnly: Bool

        public init(attachment: Attachment, path: String, id: String, readOnly: Bool = true) {
            self.attachment = attachment
            self.path = path
            self.id = id
            self.readOnly = readOnly
        }

        /// An image as a CD-ROM disc.
        public static func cdrom(_ path: String, id: String = "cd0") -> Medium {
            Medium(attachment: .cdrom, path: path, id: id, readOnly: true)
        }

        /// An image as a USB stick.
        public static func usbStick(_ path: String, id: String = "stick", readOnly: Bool = true) -> Medium {
            Medium(attachment: .usbStick, path: path, id: id, readOnly: readOnly)
        }

        /// An image as a virtio disk.
        public static func virtioDisk(_ path: String, id: String = "disk0", readOnly: Bool = false) -> Medium {
            Medium(attachment: .virtioDisk, path: path, id: id, readOnly: readOnly)
        }
    }

    /// Host-side files and console wiring for one run of a machine.
    public struct Session: Sendable, Hashable {
        /// File receiving everything the guest writes to its first serial port.
        public var consoleLog: String
        /// Also connect the serial console (multiplexed with the QEMU monitor, Ctrl-A c) to the
        /// terminal: interactive `livebuild run`.
        public var consoleOnTerminal: Bool
        /// Unix socket path for QMP (`-qmp unix:PATH,server=on,wait=off`); nil for none.
        public var qmpSocket: String?
        /// Writable private copy of the OVMF variable store. When nil, the template is used with
        /// `snapshot=on`, so the guest's writes are discarded and the template stays untouched.
        public var uefiVars: String?

        public init(consoleLog: String, consoleOnTerminal: Bool = false, qmpSocket: String? = nil, uefiVars: String? = nil) {
            self.consoleLog = consoleLog
            self.consoleOnTerminal = consoleOnTerminal
            self.qmpSocket = qmpSocket
            self.uefiVars = uefiVars
        }
    }
}
