import Foundation
import Profile
import Testing

/// Every profile shipped in profiles/ loads and validates, and every overlay it names exists.
@Suite struct RepositoryProfilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static var profiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/profiles")) ?? [])
            .filter { $0.hasSuffix(".json") && $0 != "schema.json" }.sorted()
    }

    @Test func thereAreProfiles() {
        #expect(Self.profiles.contains("cluster.json") && Self.profiles.contains("minimal.json"))
    }

    @Test(arguments: profiles)
    func loads(name: String) throws {
        let profile = try ProfileLoader.load(path: Self.root + "/profiles/" + name)
        #expect(profile.outputs.contains(.iso))
        for overlay in profile.overlays {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: overlay.path, isDirectory: &isDirectory) && isDirectory.boolValue)
        }
        #expect(profile.kernel.cmdline.contains { $0.hasPrefix("console=ttyS0") }, "VMs watch the serial console")
    }
}
