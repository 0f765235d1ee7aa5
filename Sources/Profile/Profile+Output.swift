extension Profile {
    /// Something the build produces.
    public enum Output: String, Sendable, Equatable, CaseIterable {
        /// A hybrid ISO image that boots from CD or USB, BIOS or UEFI.
        case iso
        /// The PXE tree: kernel, initramfs, squashfs and network loaders (Docs/pxe.md).
        case pxe
        /// A raw disk image (not built yet).
        case disk
    }
}
