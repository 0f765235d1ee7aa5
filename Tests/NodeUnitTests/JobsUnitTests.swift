@testable import Jobs
@testable import Processes
import Testing

/// The pure parts of the job runner: ids, the launch command line, /proc parsing, wait statuses.
@Suite struct JobsUnitTests {
    @Test(arguments: [(UInt64(0x5254_004c_4201), 7, "4c4201-7"), (UInt64(0x12), 1, "000012-1"), (UInt64(0xFFFF_FFFF_FFFF), 120, "ffffff-120")])
    func jobIDsAreTheNodesShortIDAndACounter(node: UInt64, counter: Int, id: String) {
        #expect(Jobs.Layout.jobID(node: node, counter: counter) == id)
        #expect(Jobs.Layout.counter(in: id, node: node) == counter)
        #expect(Jobs.Layout.counter(in: id, node: node &+ 1) == nil, "another node's job")
    }

    @Test func launchPutsTheSessionLeaderInsideNewPIDAndMountNamespacesAndDropsToTheUser() {
        let record = Jobs.Record(
            id: "000001-1", arguments: ["python3", "-c", "print(1)"], workingDirectory: "/tmp", environment: [],
            uid: 1000, gid: 100, owner: "ada", homeNode: "n1", stay: false, startedAt: 0)
        let launcher = Jobs.Launcher(execHelper: ["/usr/sbin/clusterd", "exec-job"])
        #expect(launcher.arguments(for: record, userExists: true) == [
            "/usr/bin/unshare", "--pid", "--fork", "--mount", "--propagation", "private", "--",
            "/usr/sbin/clusterd", "job-mounts", "--", "/usr/bin/setsid",
            "/usr/bin/setpriv", "--reuid=1000", "--regid=100", "--init-groups", "--",
            "/usr/sbin/clusterd", "exec-job", "--directory", "/tmp", "--", "python3", "-c", "print(1)",
        ])
        #expect(launcher.arguments(for: record, userExists: false).contains("--clear-groups"))
        // The agent runs at nice -10 (its unit); the job is put back to 0.
        #expect(launcher.arguments(for: record, userExists: true, agentNice: -10).prefix(12) == [
            "/usr/bin/unshare", "--pid", "--fork", "--mount", "--propagation", "private", "--",
            "/usr/sbin/clusterd", "job-mounts", "--", "/usr/bin/setsid", "/usr/bin/nice",
        ])
    }

    @Test func statLineWithSpacesAndParenthesesInTheName() throws {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal start vsize rss
        let line = "4242 (my (odd) job) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 12345 104857600 2560 18446744073709551615"
        let fields = try #require(Jobs.StatFields(line))
        #expect(fields.cpuTicks == 310)
        #expect(fields.residentPages == 2560)
        #expect(fields.startTicks == 12345)
        #expect(Jobs.StatFields("garbage") == nil)
    }

    @Test(arguments: [(Int32(0x0700), Processes.Exit.exited(7)), (Int32(0), .exited(0)), (Int32(9), .signaled(9)), (Int32(0x8F), .signaled(15))])
    func waitStatuses(status: Int32, exit: Processes.Exit) {
        #expect(Processes.Exit(status: status) == exit)
    }
}
