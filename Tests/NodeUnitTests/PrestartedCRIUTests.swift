@testable import Agent
import Foundation
import Glibc
import Migration
import Testing

/// A criu run started ahead of need (`Agent.Migrator.PrestartedCRIU`), played by a shell that
/// writes its "log" where `--log-file` says: it waits in that open until let go, its log lands
/// under the usual name, its failure carries that log, and a run not needed is killed with its
/// FIFO removed.
@Suite struct PrestartedCRIUTests {
    typealias Prestarted = Agent.Migrator.PrestartedCRIU

    static func scratch(_ name: String) -> String {
        let path = "/tmp/lb-prestart-\(getpid())-\(name)"
        Migration.remove(path)
        _ = Migration.makeDirectories(path + "/images")
        return path
    }

    /// `/bin/sh -c SCRIPT sh --log-file restore.log`: the script sees the log's path as $2
    /// (opened first, as criu does, before anything else it does).
    static func arguments(_ script: String) -> [String] {
        ["/bin/sh", "-c", script, "sh", "--log-file", "restore.log"]
    }

    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !stat.contains(") Z ")
    }

    @Test func itWaitsUntilLetGoAndItsLogLandsUnderItsName() async throws {
        let work = Self.scratch("run")
        defer { Migration.remove(work) }
        let run = try Prestarted(Self.arguments(#"exec 3>"$2"; echo "started $(date +%s%N)" >&3; echo done >&3"#),
                                 directory: work + "/images", log: "restore.log", fifo: work + "/restore.log.fifo")
        try await Task.sleep(for: .milliseconds(300))
        #expect(Self.isRunning(run.pid), "it waits in the open of its log")
        #expect(!FileManager.default.fileExists(atPath: work + "/images/restore.log"), "nothing written before it is let go")
        let released = UInt64(Date().timeIntervalSince1970 * 1e9)
        try await run.run()
        let log = try String(contentsOfFile: work + "/images/restore.log", encoding: .utf8)
        let started = try #require(log.split(separator: "\n").first.flatMap { UInt64($0.split(separator: " ")[1]) })
        #expect(started + 50_000_000 >= released, "it went on only once let go")
        #expect(log.hasSuffix("done\n"))
        #expect(!FileManager.default.fileExists(atPath: work + "/restore.log.fifo"))
    }

    @Test func aFailedRunThrowsWithItsLog() async throws {
        let work = Self.scratch("fail")
        defer { Migration.remove(work) }
        let run = try Prestarted(Self.arguments(#"exec 3>"$2"; echo "Error (criu/cr-restore.c:1): something broke" >&3; exit 1"#),
                                 directory: work + "/images", log: "restore.log", fifo: work + "/restore.log.fifo")
        await #expect(throws: Migration.CRIU.Failure.self) { try await run.run() }
        let log = try String(contentsOfFile: work + "/images/restore.log", encoding: .utf8)
        #expect(log.contains("something broke"))
    }

    @Test func aRunNotNeededIsKilledAndLeavesNothing() async throws {
        let work = Self.scratch("cancel")
        defer { Migration.remove(work) }
        let run = try Prestarted(Self.arguments(#"echo never > "$2""#), directory: work + "/images", log: "restore.log", fifo: work + "/restore.log.fifo")
        try await Task.sleep(for: .milliseconds(100))
        await run.cancel()
        #expect(!Self.isRunning(run.pid))
        #expect(!FileManager.default.fileExists(atPath: work + "/restore.log.fifo"))
        #expect(!FileManager.default.fileExists(atPath: work + "/images/restore.log"))
    }

    @Test func argumentsWithoutTheLogFileAreRefused() {
        let work = Self.scratch("refuse")
        defer { Migration.remove(work) }
        #expect(throws: (any Error).self) {
            try Prestarted(["/bin/sh", "-c", "true"], directory: work + "/images", log: "restore.log", fifo: work + "/restore.log.fifo")
        }
        #expect(!FileManager.default.fileExists(atPath: work + "/restore.log.fifo"))
    }
}
