import Glibc

/// What a head serves of its boot medium over TFTP and HTTP: a view holding only the PXE tree's
/// entries, read-only bind mounts of the medium's. The medium also holds what a person hands
/// to a machine and the network must never see (the cluster key, `livebuild/cluster-key.img`,
/// Docs/security.md), so the servers get the view, never the medium: a request for anything
/// else finds nothing, whatever its path.
public enum ServedTree {
    /// The top-level entries of a PXE tree (Docs/pxe.md): loaders, menus and live/. Anything
    /// else on the medium is not served.
    public static let entries = [
        "boot.ipxe", "lpxelinux.0", "ldlinux.c32", "libcom32.c32", "libutil.c32", "menu.c32", "pxelinux.cfg",
        "grubx64.efi", "grub", "undionly.kpxe", "snponly.efi", "live",
    ]

    /// Where `clusterd serve-boot` builds the view of its medium. Outside /run/clusterd (0750
    /// root:cluster): dnsmasq serves TFTP as its own unprivileged user, which must reach it.
    public static let defaultView = "/run/livebuild/served-tree"

    /// Builds `view` (as root): a small read-only tmpfs holding a read-only bind mount of each
    /// of ``entries`` that `medium` has as a directory or regular file. Symbolic links on the
    /// medium are not followed. An earlier view at the same place (a restarted server) is
    /// detached first. Returns the entries served.
    @discardableResult
    public static func prepare(medium: String, view: String) throws(BootServerError) -> [String] {
        release(view: view)
        // The parent too: every component must be searchable by dnsmasq's user.
        let parent = String(view[..<(view.lastIndex(of: "/") ?? view.startIndex)])
        if !parent.isEmpty, mkdir(parent, 0o755) != 0 && errno != EEXIST {
            throw BootServerError("cannot create \(parent): \(Self.error())")
        }
        if mkdir(view, 0o755) != 0 && errno != EEXIST {
            throw BootServerError("cannot create \(view): \(Self.error())")
        }
        guard mount("tmpfs", view, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=0755,size=64k") == 0 else {
            throw BootServerError("cannot mount a tmpfs on \(view) for the served view of \(medium): \(Self.error()) (clusterd serve-boot runs as root)")
        }
        var served: [String] = []
        do throws(BootServerError) {
            for name in entries {
                let source = medium + "/" + name
                let target = view + "/" + name
                var info = stat()
                guard lstat(source, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    guard mkdir(target, 0o755) == 0 else { throw BootServerError("cannot create \(target): \(Self.error())") }
                case S_IFREG:
                    let descriptor = open(target, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
                    guard descriptor >= 0 else { throw BootServerError("cannot create \(target): \(Self.error())") }
                    close(descriptor)
                default:
                    continue
                }
                guard mount(source, target, nil, UInt(MS_BIND), nil) == 0 else {
                    throw BootServerError("cannot bind \(source) on \(target): \(Self.error())")
                }
                guard mount(nil, target, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV), nil) == 0 else {
                    throw BootServerError("cannot make \(target) read-only: \(Self.error())")
                }
                served.append(name)
            }
            guard mount(nil, view, nil, UInt(MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=0755,size=64k") == 0 else {
                throw BootServerError("cannot make \(view) read-only: \(Self.error())")
            }
        } catch {
            release(view: view)
            throw error
        }
        return served
    }

    /// Detaches the view and everything mounted in it (nothing when there is none; every
    /// layer when views were stacked).
    public static func release(view: String) {
        var layers = 0
        while layers < 16, umount2(view, Int32(MNT_DETACH)) == 0 { layers += 1 }
    }

    private static func error() -> String { String(cString: strerror(errno)) }
}
