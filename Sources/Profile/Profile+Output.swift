extension Profile {
    /// Something the build produces.
    public enum Output: String, Sendable, Equatable, CaseIterable {
        /// A hybrid ISO image that boots from CD or USB, BIOS or UEFI.
        case iso
        /// Kernel, initramfs and root image for network boot (not built yet).
        case pxe
        /// A raw disk image (not built yet).
        case disk
    }
}
