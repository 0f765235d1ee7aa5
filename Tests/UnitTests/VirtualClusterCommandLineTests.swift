import Foundation
import Testing

/// Usage errors of `livebuild cluster` exit with status 2 before anything is started. Runs the
/// built `livebuild` next to the test bundle.
@Suite struct VirtualClusterCommandLineTests {
    static var binary: String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("livebuild").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let binary = try #require(Self.binary, "livebuild is not built next to the tests; run `swift build --build-tests`")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static let usageErrors: [([String], String)] = [
        (["cluster", "up", "/dev/null", "--nodes", "0"], "--nodes 0"),
        (["cluster", "up", "/dev/null", "--nodes", "65"], "--nodes 65"),
        (["cluster", "up", "/dev/null"], "--nodes"),
        (["cluster", "up", "/dev/null", "--nodes", "2", "--memory", "64"], "--memory"),
        (["cluster", "exec", "node1"], "after `--`"),
        (["cluster", "exec", "web", "--", "true"], "node 'web'"),
    ]

    @Test(arguments: usageErrors)
    func usageErrorsExitWithStatus2(arguments: [String], message: String) throws {
        let result = try Self.run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
    }

    @Test func execWithoutAClusterSaysHowToStartOne() throws {
        let result = try Self.run(["cluster", "exec", "--run-dir", "/nonexistent/livebuild-cluster", "node1", "--", "true"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("livebuild cluster up") || result.stderr.contains("root"), "\(result.stderr)")
    }
}
