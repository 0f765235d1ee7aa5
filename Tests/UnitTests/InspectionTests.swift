import Testing
@testable import LiveBuild
import Profile

/// `livebuild inspect`'s pure parts: secrets masked in the node configuration, menus parsed,
/// image kinds told apart by their signatures.
@Suite struct InspectionTests {
    @Test func valuesUnderSecretLookingKeysAreMasked() {
        let configuration = JSONValue.object([
            "name": .string("lab"),
            "wifiPassword": .string("hunter2"),
            "nodes": .array([.object(["hostname": .string("n1"), "bmcSecret": .string("s3cr3t"), "tokens": .array([.string("t1")])])]),
            "port": .integer(7946),
        ])
        let masked = Inspection.masked(configuration)
        #expect(masked["name"] == .string("lab"))
        #expect(masked["port"] == .integer(7946))
        #expect(masked["wifiPassword"] == .string("********"))
        #expect(masked["nodes"]?.arrayValue?.first?["bmcSecret"] == .string("********"))
        #expect(masked["nodes"]?.arrayValue?.first?["tokens"] == .array([.string("********")]))
        #expect(masked["nodes"]?.arrayValue?.first?["hostname"] == .string("n1"))
        #expect(!masked.canonicalJSON.contains("hunter2") && !masked.canonicalJSON.contains("s3cr3t"))
    }

    @Test func syslinuxMenusOfEveryLoaderParse() throws {
        let menu = try BootMenu(title: "T", timeoutSeconds: 2, entries: [
            .init(label: "Node", kernelCommandLine: "console=ttyS0 quiet"), .init(label: "No arguments", kernelCommandLine: ""),
        ])
        let entries = Inspector.syslinuxEntries(menu.isolinuxConfig())
        #expect(entries == [.init(label: "Node", commandLine: "console=ttyS0 quiet"), .init(label: "No arguments", commandLine: "")])
    }

    @Test func sizesReadLikeTheBuildsSummary() {
        #expect(Inspection.size(512) == "512 bytes")
        #expect(Inspection.size(1 << 20) == "1.0 MiB")
        #expect(Inspection.size(241_475_584) == "230.3 MiB")
    }
}
