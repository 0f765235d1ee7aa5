import Foundation
import Testing
import TestSupport

/// The manifest tells the truth about the artefacts beside it.
@Suite struct ManifestInteropTests {
    @Test func artefactDigestsAndPackages() async throws {
        let image = try await Fixtures.shared.image("cluster")
        for artefact in image.manifest.artefacts {
            let path = image.directory + "/" + artefact.path
            let output = try Tool.run(["sha256sum", path]).text
            #expect(output.hasPrefix(artefact.sha256), "sha256 of \(artefact.path)")
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber
            #expect(size?.uint64Value == artefact.size)
        }
        let names = image.manifest.packages.map(\.name)
        for required in ["linux-image-amd64", "busybox-static", "systemd-sysv", "criu", "openssh-server"] {
            #expect(names.contains(required), "manifest lists \(required)")
        }
        #expect(image.manifest.stages.map(\.name) == ["base", "rootfs", "initramfs", "iso", "pxe", "disk"])
        let decoded = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: image.directory + "/manifest.json")))
        #expect((decoded as? [String: Any])?["mediumID"] as? String == image.manifest.mediumID)
    }
}
