import Foundation
import LiveBuild
import Logging
import Profile
import Testing
import TestSupport

/// Builds that must fail with a clear message and leave no output behind.
@Suite struct BuildErrorTests {
    func scratch() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lb-errors-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func unknownPackageIsNamedByItsJSONPath() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let profilePath = directory + "/bad.json"
        try Data(#"{"name": "bad", "base": {"debian": {"packages": ["less", "livebuild-no-such-package"]}}}"#.utf8)
            .write(to: URL(fileURLWithPath: profilePath))
        let profile = try ProfileLoader.load(path: profilePath)
        let output = directory + "/out"
        let builder = Builder(profile: profile, output: output, cacheDirectory: directory + "/cache",
                              sourceDateEpoch: 1_700_000_000, logger: Logger(label: "test"))
        let error = await #expect(throws: LiveBuildError.self) { try await builder.build() }
        #expect(error?.message.contains("base.debian.packages[1]") == true, "\(String(describing: error))")
        #expect(error?.message.contains("livebuild-no-such-package") == true)
        #expect(!FileManager.default.fileExists(atPath: output), "a failed build leaves no output")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains("partial") }
        #expect(leftovers.isEmpty, "no partial directory left: \(leftovers)")
    }

    @Test func failedRebuildKeepsThePreviousOutput() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/out"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try Data("previous\n".utf8).write(to: URL(fileURLWithPath: output + "/manifest.json"))
        let profilePath = directory + "/bad-tarball.json"
        try Data("this is not an archive\n".utf8).write(to: URL(fileURLWithPath: directory + "/rootfs.tar"))
        try Data(#"{"name": "t", "base": {"tarball": {"path": "rootfs.tar"}}}"#.utf8).write(to: URL(fileURLWithPath: profilePath))
        let profile = try ProfileLoader.load(path: profilePath)
        let builder = Builder(profile: profile, output: output, cacheDirectory: directory + "/cache",
                              sourceDateEpoch: 1_700_000_000, logger: Logger(label: "test"))
        let error = await #expect(throws: LiveBuildError.self) { try await builder.build() }
        #expect(error?.message.contains("base.tarball") == true && error?.message.contains("rootfs.tar") == true, "\(String(describing: error))")
        #expect(try String(contentsOfFile: output + "/manifest.json", encoding: .utf8) == "previous\n")
    }
}
