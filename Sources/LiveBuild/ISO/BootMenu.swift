/// The boot menu of a live medium, rendered both for isolinux (BIOS) and GRUB (UEFI).
///
/// The first entry is the default. Both menus are drawn on the screen and on the serial
/// console. Renderers are pure (`isolinuxConfig()`, `grubConfig()`).
public struct BootMenu: Sendable, Hashable {
    /// One bootable choice.
    public struct Entry: Sendable, Hashable {
        /// Text shown in the menu.
        public var label: String
        /// Kernel command line, verbatim (the loaders add `initrd=`/`BOOT_IMAGE=` themselves).
        public var kernelCommandLine: String

        public init(label: String, kernelCommandLine: String) {
            self.label = label
            self.kernelCommandLine = kernelCommandLine
        }
    }

    /// The serial port the boot loaders mirror their menu on.
    public struct SerialConsole: Sendable, Hashable {
        /// 0 is COM1 / ttyS0.
        public var unit: Int
        public var speed: Int

        public init(unit: Int = 0, speed: Int = 115_200) {
            self.unit = unit
            self.speed = speed
        }
    }

    /// What makes a menu unrenderable.
    public enum Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        case noEntries
        case negativeTimeout(Int)
        case controlCharacter(field: String, value: String)
        case invalidSerial(unit: Int, speed: Int)

        public var description: String {
            switch self {
            case .noEntries: "the boot menu has no entries; add at least one"
            case .negativeTimeout(let seconds): "boot menu timeout \(seconds) is negative; use 0 to boot the default at once"
            case .controlCharacter(let field, let value): "boot menu \(field) \(value.debugDescription) holds a line break or control character"
            case .invalidSerial(let unit, let speed): "serial console unit \(unit) at \(speed) baud is not supported (unit 0-3, speed > 0)"
            }
        }
    }

    public var title: String
    /// Seconds before the default entry boots; 0 boots it at once.
    public var timeoutSeconds: Int
    public var entries: [Entry]
    public var serial: SerialConsole
    /// Initramfs images that only media handed to a machine load after the live one, relative
    /// to the medium's root: the cluster key (``ClusterKeyImage``). The PXE menus never list them.
    public var mediaInitrds: [String] = []

    public init(title: String, timeoutSeconds: Int, entries: [Entry], serial: SerialConsole = SerialConsole()) throws(BootMenu.Error) {
        guard !entries.isEmpty else { throw .noEntries }
        guard timeoutSeconds >= 0 else { throw .negativeTimeout(timeoutSeconds) }
        guard (0...3).contains(serial.unit), serial.speed > 0 else { throw .invalidSerial(unit: serial.unit, speed: serial.speed) }
        try Self.checkPrintable(title, field: "title")
        for entry in entries {
            try Self.checkPrintable(entry.label, field: "label")
            try Self.checkPrintable(entry.kernelCommandLine, field: "kernel command line")
        }
        self.title = title
        self.timeoutSeconds = timeoutSeconds
        self.entries = entries
        self.serial = serial
    }

    private static func checkPrintable(_ value: String, field: String) throws(BootMenu.Error) {
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .controlCharacter(field: field, value: value)
        }
    }
}
