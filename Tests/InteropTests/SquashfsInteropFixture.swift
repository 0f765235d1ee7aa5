import Filesystem

/// A synthetic entry stream with every kind of entry and the awkward cases: empty, one-byte,
/// exactly-one-block, multi-block and sparse files, many small files (fragments), duplicate
/// contents, implicit parents completed late, hard links before their targets, devices, a fifo,
/// a socket, setuid/setgid/sticky modes, odd owners and times, xattrs, and duplicate paths.
struct SquashfsFixture {
    struct Item {
        var entry: FileEntry
        var bytes: [UInt8]
    }

    static let blockSize = 128 * 1024
    static let imageTime: Int64 = 1_700_000_000

    /// Everything in arrival order, duplicates included.
    var items: [Item] = []
    /// Paths whose later entries must lose (first one wins).
    var ignoredCount = 0

    init() {
        let block = Self.blockSize
        func file(_ path: String, _ bytes: [UInt8], mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0,
                  mtime: Int64 = 1_600_000_000, xattrs: [Xattr] = []) -> Item {
            Item(entry: FileEntry(path: path, kind: .regular, permissions: mode, uid: uid, gid: gid,
                                  mtime: mtime, size: UInt64(bytes.count), xattrs: xattrs), bytes: bytes)
        }
        func node(_ path: String, _ kind: FileEntry.Kind, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0,
                  mtime: Int64 = 1_600_000_001, target: String? = nil, major: UInt32 = 0, minor: UInt32 = 0,
                  xattrs: [Xattr] = []) -> Item {
            Item(entry: FileEntry(path: path, kind: kind, permissions: mode, uid: uid, gid: gid, mtime: mtime,
                                  linkTarget: target, deviceMajor: major, deviceMinor: minor, xattrs: xattrs),
                 bytes: [])
        }
        let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0]
        let shared = squashfsNoise(count: 2 * block + 1234, seed: 99)

        items = [
            // A hard link that arrives before its target.
            node("early-link", .hardlink, mode: 0o644, target: "late/target"),
            node("", .directory, mode: 0o755, mtime: 1_650_000_000),
            node("etc", .directory, mode: 0o755, uid: 0, gid: 0, mtime: 1_650_000_001),
            file("etc/passwd", Array("root:x:0:0:root:/root:/bin/bash\n".utf8)),
            file("empty", []),
            file("one", [0x42], mode: 0o600, uid: 1000, gid: 1000, mtime: 0),
            file("block", squashfsNoise(count: block, seed: 1)),
            file("multi", squashfsNoise(count: 3 * block + 777, seed: 2), mtime: 2_200_000_000),
            file("sparse", [UInt8](repeating: 0, count: 2 * block) + [1, 2, 3]),
            file("dup/a", shared),
            file("dup/b", shared, uid: 100000, gid: 100000),
            node("bin", .directory, mode: 0o755),
            file("bin/su", squashfsNoise(count: 5000, seed: 3), mode: 0o4755,
                 xattrs: [Xattr(name: "security.capability", value: capability)]),
            file("bin/wall", squashfsNoise(count: 3000, seed: 4), mode: 0o2755, gid: 5),
            node("tmp", .directory, mode: 0o1777, mtime: 1_650_000_002),
            node("deep/a/b/c/leaf", .symlink, mode: 0o777, target: "../../../../etc/passwd"),
            file("deep/a/b/c/file", Array("deep\n".utf8), uid: 65534, gid: 65534),
            // The real entry for an implicit parent, after its children.
            node("deep/a", .directory, mode: 0o700, uid: 5, gid: 6, mtime: 1_650_000_003,
                 xattrs: [Xattr(name: "user.dir", value: Array("yes".utf8))]),
            node("link-abs", .symlink, mode: 0o777, target: "/nonexistent/target"),
            node("dev/null", .characterDevice, mode: 0o666, major: 1, minor: 3),
            node("dev/sda", .blockDevice, mode: 0o660, gid: 6, major: 8, minor: 0),
            node("dev/big", .characterDevice, mode: 0o600, major: 259, minor: 65_536),
            node("run/fifo", .fifo, mode: 0o644),
            node("run/sock", .socket, mode: 0o755),
            file("hl/one", Array("linked\n".utf8), mode: 0o640, uid: 7, gid: 8,
                 xattrs: [Xattr(name: "user.foo", value: Array("bar".utf8)),
                          Xattr(name: "trusted.t", value: [0, 1, 2, 255])]),
            node("hl/two", .hardlink, mode: 0o640, target: "hl/one"),
            node("other/three", .hardlink, mode: 0o640, target: "hl/one"),
            file("late/target", squashfsNoise(count: 70_000, seed: 5), mode: 0o755),
            file("xattr-skipped", [1], xattrs: [Xattr(name: "system.posix_acl_access", value: [2, 0, 0, 0])]),
        ]
        for index in 0..<200 {
            let name = "small/f\(index < 10 ? "00" : index < 100 ? "0" : "")\(index)"
            let bytes = index % 7 == 0 ? squashfsNoise(count: 500, seed: 1000)
                                       : squashfsNoise(count: 10 + (index * 37) % 3000, seed: UInt64(index))
            items.append(file(name, bytes, uid: UInt32(index % 3), mtime: 1_600_000_000 + Int64(index)))
        }
        // Later entries for taken paths: all must be ignored.
        items += [
            file("etc/passwd", Array("intruder\n".utf8)),
            node("tmp", .directory, mode: 0o755),
            file("etc/passwd/child", [1]),
            file("small", [1]),
            node("", .directory, mode: 0o700),
            node("deep/a", .directory, mode: 0o755),
        ]
        ignoredCount = 6
    }

    /// The winning item for each path (first one), in path order.
    var winners: [String: Item] {
        var result: [String: Item] = [:]
        for item in items where result[item.entry.path] == nil {
            if item.entry.path == "etc/passwd/child" || item.entry.path == "small" { continue }
            result[item.entry.path] = item
        }
        return result
    }

    /// Directories that never get an entry of their own.
    static let implicitDirectories = ["deep", "deep/a/b", "deep/a/b/c", "dup", "dev", "run", "hl",
                                      "other", "late", "small"]
}
