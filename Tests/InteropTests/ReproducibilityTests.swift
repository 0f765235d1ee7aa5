import Foundation
import Testing
import TestSupport

/// Two builds of one profile with the same SOURCE_DATE_EPOCH and the same cached base give
/// byte-identical squashfs, initramfs, ISO and PXE loaders and menus.
@Suite struct ReproducibilityTests {
    @Test func secondBuildIsByteIdentical() async throws {
        let first = try await Fixtures.shared.image("cluster")
        let directory = Repository.root + "/.build/fixtures/cluster-again"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let second = try await Fixtures.build("cluster", into: directory)
        for path in ["cluster.iso", "live/filesystem.squashfs", "live/initrd.img", "live/vmlinuz", "pxe/grubx64.efi", "pxe/boot.ipxe", "pxe/pxelinux.cfg/default"] {
            let a = first.manifest.artefacts.first { $0.path == path }
            let b = second.manifest.artefacts.first { $0.path == path }
            #expect(a != nil && a?.sha256 == b?.sha256, "\(path) differs between two builds")
        }
        #expect(first.manifest.mediumID == second.manifest.mediumID)
        #expect(first.manifest.packages == second.manifest.packages)
    }
}
