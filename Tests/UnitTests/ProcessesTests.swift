import Foundation
@testable import Processes
import Testing

/// The one posix_spawn and the reaper, waiting for each child alone (no subreaper, no thread
/// that reaps every child of the test process).
@Suite struct ProcessesTests {
    @Test func aHelperRunsWithTheCleanEnvironmentAndItsOutputInTheLog() async throws {
        let directory = FileManager.default.temporaryDirectory.path + "/processes-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = directory + "/output.log"
        let exit = try await Processes.run(
            ["/bin/sh", "-c", "echo \"$PATH\"; pwd; echo oops >&2; exit 3"], log: log, directory: "/")
        #expect(exit == .exited(3))
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text == Processes.cleanEnvironment[0].dropFirst("PATH=".count) + "\n/\noops\n")
    }

    @Test func aSignalledChildIsReportedAsSuch() async throws {
        let pid = try Processes.spawn(["/bin/sh", "-c", "kill -TERM $$"], descriptors: Processes.output(to: "/dev/null"))
        #expect(await Processes.Reaper.shared.exit(of: pid) == .signaled(SIGTERM))
    }

    @Test func aMissingProgramFailsWithASentence() {
        #expect(throws: Processes.Failure.self) {
            try Processes.spawn(["/nonexistent/program"], descriptors: [])
        }
    }
}
