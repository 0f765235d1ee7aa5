import Testing
@testable import LiveBuild

@Suite struct ModuleResolverTests {
    let dep = """
    kernel/drivers/scsi/sr_mod.ko.xz: kernel/drivers/cdrom/cdrom.ko.xz kernel/drivers/scsi/scsi_mod.ko.xz
    kernel/drivers/cdrom/cdrom.ko.xz:
    kernel/drivers/scsi/scsi_mod.ko.xz: kernel/drivers/scsi/scsi_common.ko.xz
    kernel/drivers/scsi/scsi_common.ko.xz:
    kernel/drivers/usb/storage/usb-storage.ko.xz: kernel/drivers/scsi/scsi_mod.ko.xz kernel/drivers/usb/core/usbcore.ko.xz
    kernel/drivers/usb/core/usbcore.ko.xz: kernel/drivers/usb/common/usb-common.ko.xz
    kernel/drivers/usb/common/usb-common.ko.xz:
    """
    let builtin = "kernel/fs/ext4/ext4.ko\nkernel/drivers/virtio/virtio_pci.ko\n"

    @Test func dependenciesComeFirstOnce() {
        let resolution = ModuleResolver(modulesDep: dep, modulesBuiltin: builtin).resolve(["sr_mod", "usb-storage"])
        #expect(resolution.load.map(\.name) == ["cdrom", "scsi_common", "scsi_mod", "sr_mod", "usb_common", "usbcore", "usb_storage"])
        #expect(resolution.load.first?.path == "kernel/drivers/cdrom/cdrom.ko.xz")
    }

    @Test func builtinAndMissingAreReported() {
        let resolution = ModuleResolver(modulesDep: dep, modulesBuiltin: builtin).resolve(["ext4", "virtio-pci", "nosuch"])
        #expect(resolution.load.isEmpty)
        #expect(resolution.builtin == ["ext4", "virtio_pci"])
        #expect(resolution.missing == ["nosuch"])
    }

    @Test(arguments: [
        ("kernel/fs/overlayfs/overlay.ko.xz", "overlay"),
        ("usb-storage", "usb_storage"),
        ("a/b/nls_cp437.ko", "nls_cp437"),
        ("x.ko.zst", "x"),
    ])
    func canonicalNames(input: String, expected: String) {
        #expect(ModuleResolver.canonicalName(input) == expected)
    }
}
