/// Where things live on a livebuild ISO (paths relative to the ISO root).
///
/// ```
/// live/vmlinuz                  kernel          (from the staging directory)
/// live/initrd.img               initramfs       (from the staging directory)
/// live/filesystem.squashfs      root filesystem (from the staging directory)
/// live/<MEDIUM-ID>.medium       marker: holds the medium id; GRUB EFI finds the medium by it,
///                               the initramfs can use it to tell this medium from others
/// isolinux/isolinux.bin         BIOS El Torito boot image (boot-info-table patched)
/// isolinux/boot.cat             El Torito boot catalog
/// isolinux/isolinux.cfg         BIOS menu (BootMenu.isolinuxConfig)
/// isolinux/{ldlinux,libcom32,libutil,menu}.c32   syslinux modules for that menu
/// boot/grub/grub.cfg            UEFI menu (BootMenu.grubConfig)
/// boot/grub/efiboot.img         FAT ESP image: EFI El Torito image and GPT/MBR partition 2
/// EFI/BOOT/BOOTX64.EFI          the same GRUB image, for firmware that reads the ISO directly
/// ```
/// A profile with a `cluster` section adds the PXE tree's loaders and menus at the root
/// (``PxeLayout``: boot.ipxe, lpxelinux.0 and its modules, pxelinux.cfg/, grubx64.efi, grub/,
/// live/filesystem.squashfs.sha256), so the ISO's root can be served as a PXE tree by a head node.
/// The MBR is syslinux's isohdpfx.bin (isohybrid), so the image boots when written raw to a
/// USB stick on BIOS; the GPT and MBR list the ESP so it boots that way on UEFI too.
public enum IsoLayout {
    public static let kernel = "live/vmlinuz"
    public static let initrd = "live/initrd.img"
    public static let squashfs = "live/filesystem.squashfs"
    /// Files the staging directory must provide.
    public static let stagedFiles = [kernel, initrd, squashfs]

    /// The marker file of medium `id`.
    public static func marker(for id: MediumID) -> String { "live/\(id.value).medium" }

    public static let isolinuxDirectory = "isolinux"
    public static let isolinuxBinary = "isolinux/isolinux.bin"
    public static let bootCatalog = "isolinux/boot.cat"
    public static let isolinuxConfig = "isolinux/isolinux.cfg"
    public static let grubConfig = "boot/grub/grub.cfg"
    public static let efiImage = "boot/grub/efiboot.img"
    public static let efiLoader = "EFI/BOOT/BOOTX64.EFI"

    /// Top-level directories the writer adds; a staging directory must not hold them.
    public static let bootloaderDirectories = ["isolinux", "boot", "EFI"]
}
