import Foundation
import Testing
import TestSupport

/// Our initramfs, read back with the reference tools (GNU cpio and bsdtar).
@Suite struct InitramfsInteropTests {
    @Test func cpioAndBsdtarListTheLiveInitAndModules() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let listing = try Tool.run(["bsdtar", "-tvf", image.initramfs]).text
        for expected in ["init", "bin/busybox", "etc/livebuild/initrd.conf", "lib/modules/squashfs.ko", "lib/modules/overlay.ko", "lib/modules/isofs.ko", "dev/console"] {
            #expect(listing.contains(" \(expected)\n") || listing.hasSuffix(" \(expected)"), "bsdtar lists \(expected)")
        }
        let decompressed = FileManager.default.temporaryDirectory.appendingPathComponent("initrd-\(UUID().uuidString).cpio").path
        defer { try? FileManager.default.removeItem(atPath: decompressed) }
        try Tool.run(["zstd", "-q", "-d", "-f", "-o", decompressed, image.initramfs])
        let names = try Tool.run(["cpio", "-t", "--quiet"], stdin: decompressed).text.split(separator: "\n").map(String.init)
        #expect(names.contains("init"))
        #expect(names.contains("bin/busybox"))
        #expect(names == names.sorted(), "entries are written in sorted order")
        // Only what the init needs: the whole kernel has thousands of modules.
        let modules = names.filter { $0.hasPrefix("lib/modules/") }
        #expect(modules.count > 5 && modules.count < 80)
        #expect(image.manifest.initramfsModules.count == modules.count)
        // NFS root (live.nfs=): the NFSv3 client and what it needs, loaded without modprobe.
        for module in ["nfsv3", "nfs", "sunrpc", "lockd"] {
            #expect(modules.contains("lib/modules/\(module).ko"), "the initramfs has \(module).ko: \(modules)")
        }
        // The live init as the initramfs holds it parses as POSIX sh.
        try Tool.run(["sh", "-c", "bsdtar -xOf \"$1\" init | sh -n", "sh", image.initramfs])
    }
}
