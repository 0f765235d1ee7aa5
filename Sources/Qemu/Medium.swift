extension Qemu {
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
        /// The image's format: `raw` (ISOs, `.img` disks) or `qcow2`.
        public var format: String

        public init(attachment: Attachment, path: String, id: String, readOnly: Bool = true, format: String = "raw") {
            self.attachment = attachment
            self.path = path
            self.id = id
            self.readOnly = readOnly
            self.format = format
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
        public static func virtioDisk(_ path: String, id: String = "disk0", readOnly: Bool = false, format: String = "raw") -> Medium {
            Medium(attachment: .virtioDisk, path: path, id: id, readOnly: readOnly, format: format)
        }
    }
}
