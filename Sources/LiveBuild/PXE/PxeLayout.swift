import Profile

/// Where things live in the PXE tree (`outputs: ["pxe"]`, written to `OUTDIR/pxe`). The tree is
/// the root of both the TFTP and the HTTP server (Docs/pxe.md):
///
/// ```
/// boot.ipxe                           iPXE script with the menu (QEMU's NIC ROM, iPXE chains)
/// lpxelinux.0                         BIOS PXE loader (PXELINUX with HTTP), and its modules
/// ldlinux.c32 libcom32.c32 libutil.c32 menu.c32
/// pxelinux.cfg/default                BIOS menu
/// pxelinux.cfg/01-MAC                 BIOS menu of a node with a root of its own (`pxe.nodes`)
/// grubx64.efi                         UEFI network GRUB (prefix /grub: reads grub/grub.cfg over TFTP)
/// grub/grub.cfg                       UEFI menu
/// grub/grub.cfg-01-MAC                UEFI menu of a node with a root of its own
/// undionly.kpxe  snponly.efi          iPXE for BIOS and UEFI, to chain from firmware PXE (proxy DHCP)
/// live/vmlinuz  live/initrd.img       kernel and initramfs
/// live/filesystem.squashfs            root filesystem, fetched over HTTP by the live init
/// live/filesystem.squashfs.sha256     its digest (`sha256sum -c` format)
/// ```
///
/// iPXE loads the kernel and initramfs over HTTP from the boot server; PXELINUX and GRUB over
/// TFTP. Every loader passes `fetch=http://SERVER/live/filesystem.squashfs` with the boot server it
/// came from: iPXE and GRUB fill in the address themselves; PXELINUX passes `${pxeserver}`
/// and `ip=` (IPAPPEND 1), and the live init takes the server from there.
public enum PxeLayout {
    public static let directory = "pxe"
    public static let ipxeScript = "boot.ipxe"
    public static let pxelinux = "lpxelinux.0"
    public static let pxelinuxConfig = "pxelinux.cfg/default"
    public static let grubLoader = "grubx64.efi"
    public static let grubConfig = "grub/grub.cfg"
    public static let ipxeBIOS = "undionly.kpxe"
    public static let ipxeUEFI = "snponly.efi"
    public static let kernel = "live/vmlinuz"
    public static let initrd = "live/initrd.img"
    public static let squashfs = "live/filesystem.squashfs"
    public static let squashfsDigest = "live/filesystem.squashfs.sha256"

    /// PXELINUX's per-node menu, which it looks for before `default`.
    public static func pxelinuxNodeConfig(_ node: Profile.Pxe.Node) -> String { "pxelinux.cfg/" + node.pxelinuxName }

    /// The network GRUB's per-node menu (GRUB's own naming), which `grub/grub.cfg` sends the
    /// node to.
    public static func grubNodeConfig(_ node: Profile.Pxe.Node) -> String { grubConfig + "-" + node.pxelinuxName }

    /// The HTTP URL of `path` in the tree on `server`.
    public static func httpURL(server: String, _ path: String) -> String { "http://\(server)/\(path)" }

    /// The `fetch=` URL with `server` standing for the boot server's address.
    public static func fetchURL(server: String) -> String { httpURL(server: server, squashfs) }

    /// What a head exports read-only over NFSv3 for `pxe.root` `nfs`: its boot medium's live/
    /// directory and nothing else of the medium, which also holds the cluster key (the NFSv4
    /// root is the shared directory, so it goes by path). The live init mounts it as live/.
    public static let nfsExport = "/run/live/medium/live"

    /// The kernel parameter that tells the live init where the squashfs is: `fetch=URL`
    /// (HTTP into RAM) or `live.nfs=SERVER:PATH` (read over NFS).
    public static func rootArgument(_ root: Profile.Pxe.Root, server: String) -> String {
        switch root {
        case .http: "fetch=" + fetchURL(server: server)
        case .nfs: "live.nfs=\(server):\(nfsExport)"
        }
    }

    /// GRUB modules built into grubx64.efi: network (efinet, tftp, http), the menu, the serial
    /// console and video.
    public static let grubModules = [
        "efinet", "tftp", "http", "normal", "configfile", "linux", "echo", "serial", "terminal",
        "all_video", "efi_gop", "test", "sleep", "halt", "reboot",
    ]
}
