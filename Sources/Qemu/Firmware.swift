extension Qemu {
    /// The firmware a machine starts.
    public enum Firmware: Sendable, Hashable {
        /// SeaBIOS, QEMU's built-in default.
        case bios
        /// OVMF: its code as read-only pflash, its variable store as writable pflash.
        case uefi(OVMF)
    }
}
