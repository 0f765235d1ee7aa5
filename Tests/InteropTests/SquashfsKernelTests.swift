import Foundation
import Testing
import Filesystem
import Archive
import Squashfs

/// The Linux kernel is the reader that matters: mount our images and compare them with GNU
/// `tar --compare` (mode, owner, mtime, size, contents, link targets, device numbers).
/// Runs where squashfs can be loop-mounted (root, squashfs in /proc/filesystems).
@Suite struct SquashfsKernelTests {
    @Test(.enabled(if: SquashfsMount.available))
    func kernelReadsTheFixture() throws {
        let scratch = try SquashfsScratch()
        let image = scratch.file("fixture.sqfs")
        let fixture = SquashfsFixture()
        _ = try SquashfsInteropTests.write(fixture, to: image, options: Squashfs.Options(
            blockSize: SquashfsFixture.blockSize, threads: 2, modificationTime: SquashfsFixture.imageTime))

        // The expected tree as a tar: the winning entries in arrival order (tar cannot hold sockets).
        let tar = scratch.file("expected.tar")
        let expected = try Archive.Writer(path: tar, format: .pax, filter: .none)
        var seen = Set<String>()
        for item in fixture.items where seen.insert(item.entry.path).inserted {
            let path = item.entry.path
            if path.isEmpty || item.entry.kind == .socket || path == "etc/passwd/child" || path == "small" { continue }
            try expected.add(item.entry, bytes: item.bytes)
        }
        try expected.finish()

        let mount = try SquashfsMount(image: image, at: scratch.file("mnt"))
        let differences = try SquashfsTool.run("tar", ["--compare", "-f", tar, "-C", mount.path])
        #expect(differences.isEmpty, "\(String(decoding: differences, as: UTF8.self))")

        let root = mount.path
        var status = stat()
        #expect(lstat("\(root)/run/sock", &status) == 0 && status.st_mode & S_IFMT == S_IFSOCK)
        #expect(lstat("\(root)/hl/two", &status) == 0 && status.st_nlink == 3)
        var one = stat()
        #expect(lstat("\(root)/hl/one", &one) == 0 && one.st_ino == status.st_ino)
        // glibc's makedev(259, 65536): the kernel must decode squashfs's 32-bit device number.
        let major: UInt64 = 259, minor: UInt64 = 65_536
        let device = ((major & 0xfff) << 8) | ((major & ~0xfff) << 32) | (minor & 0xff) | ((minor & ~0xff) << 12)
        #expect(lstat("\(root)/dev/big", &status) == 0 && UInt64(status.st_rdev) == device)
        #expect(lstat("\(root)/deep/a/b", &status) == 0 && status.st_mode == S_IFDIR | 0o755
                && status.st_mtim.tv_sec == Int(SquashfsFixture.imageTime))
        func xattr(_ path: String, _ name: String) throws -> String {
            let output = try SquashfsTool.run("getfattr", ["--absolute-names", "-n", name, "-e", "hex", "\(root)/\(path)"])
            return String(decoding: output, as: UTF8.self)
        }
        #expect(try xattr("bin/su", "security.capability").contains("security.capability=0x0100000200200000"))
        #expect(try xattr("deep/a", "user.dir").contains("user.dir=0x796573"))
        #expect(try xattr("hl/two", "trusted.t").contains("trusted.t=0x000102ff"))
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: "\(root)/early-link")))
                == fixture.winners["late/target"]?.bytes)
    }

    /// The trixie rootfs, mounted, against the tar it came from.
    @Test(.enabled(if: SquashfsMount.available))
    func kernelReadsTrixie() async throws {
        let tarPath = try await SquashfsTrixieTests.tarPath()
        let scratch = try SquashfsScratch()
        let image = scratch.file("trixie.sqfs")
        _ = try Squashfs.Writer.write(Archive.FileSource(path: tarPath), to: image,
                                      options: SquashfsTrixieTests.options())
        let mount = try SquashfsMount(image: image, at: scratch.file("mnt"))
        let differences = try SquashfsTool.run("tar", ["--compare", "-f", tarPath, "-C", mount.path])
        #expect(differences.isEmpty, "\(String(decoding: differences.prefix(4000), as: UTF8.self))")
    }
}
