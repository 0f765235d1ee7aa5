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

    /// A polled child (QEMU, the loopback agents): its exit once it ends, signals only while it
    /// runs, and the caller's environment when asked for.
    @Test func aPolledChildReportsItsExitAndTakesSignals() async throws {
        setenv("LIVEBUILD_CHILD_TEST", "seen", 1)
        defer { unsetenv("LIVEBUILD_CHILD_TEST") }
        #expect(Processes.inheritedEnvironment().contains("LIVEBUILD_CHILD_TEST=seen"))
        let quick = try Processes.Child(
            ["/bin/sh", "-c", "test \"$LIVEBUILD_CHILD_TEST\" = seen && exit 4"], descriptors: Processes.output(to: "/dev/null"),
            environment: Processes.inheritedEnvironment())
        #expect(try await quick.waitForExit(timeout: .seconds(10)) == .exited(4))
        #expect(!quick.isRunning && quick.exit == .exited(4))
        quick.signal(SIGKILL)  // ended: nothing is sent (its pid may be someone else's now)

        let sleeper = try Processes.Child(["/bin/sleep", "30"], descriptors: Processes.output(to: "/dev/null"))
        #expect(sleeper.isRunning)
        #expect(try await sleeper.waitForExit(timeout: .milliseconds(100)) == nil)
        sleeper.signal(SIGTERM)
        #expect(sleeper.waitUntilExit() == .signaled(SIGTERM))
    }
}
