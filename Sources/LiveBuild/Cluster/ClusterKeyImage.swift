import Archive
import ClusterWire
import Filesystem

/// The cluster key as media hand it to a node: a second initramfs (an uncompressed newc cpio
/// holding `etc/livebuild/cluster.key`, mode 0600) that the boot loaders of the ISO, USB stick
/// and disk image load after the real one. The kernel unpacks both into one initramfs, and the
/// live init moves the key into the new root before switching to it.
///
/// The key never enters the squashfs, the initramfs or the PXE tree, which a head serves to its
/// network (Docs/security.md, "Secrets"): it sits at ``path`` on the medium, which the head does
/// not serve, and network boots load no second initramfs. A diskless node asks the head for the
/// key instead (admission).
public enum ClusterKeyImage {
    /// Where the image lives on the ISO and on a disk image's EFI system partition, relative
    /// to their root.
    public static let path = "livebuild/cluster-key.img"
    /// Where the key appears in the initramfs, and where the live init installs it.
    public static let keyPath = "etc/livebuild/cluster.key"

    /// Writes the image of `key` to `destination`.
    public static func write(_ key: ClusterKeyFile, to destination: String, mtime: Int64) throws {
        let bytes = Array(key.text.utf8)
        let writer = try Archive.Writer(path: destination, format: .cpioNewc, filter: .none)
        try writer.add(FileEntry(path: "etc", kind: .directory, permissions: 0o755, mtime: mtime), bytes: [])
        try writer.add(FileEntry(path: "etc/livebuild", kind: .directory, permissions: 0o755, mtime: mtime), bytes: [])
        try writer.add(FileEntry(path: keyPath, kind: .regular, permissions: 0o600, mtime: mtime, size: UInt64(bytes.count)), bytes: bytes)
        try writer.finish()
    }

    /// The fingerprint of the key in an image's bytes; nil when they hold no valid key.
    public static func fingerprint(of image: [UInt8]) -> String? {
        guard let reader = try? Archive.Reader(bytes: image, name: path) else { return nil }
        while let entry = try? reader.next() {
            guard String(entry.path.drop { $0 == "/" || $0 == "." }) == keyPath else { continue }
            guard let text = try? reader.readAll(), let key = Wire.Keys.KeyFile.parse(String(decoding: text, as: UTF8.self)) else { return nil }
            return try? Wire.Keys(clusterKey: key).fingerprint
        }
        return nil
    }
}
