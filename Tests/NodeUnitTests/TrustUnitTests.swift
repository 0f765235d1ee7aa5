import Foundation
@testable import Jobs
@testable import Migration
import Processes
import Testing

/// The trust model's pure rules (Docs/security.md): who may ask what of a node, which job ids
/// and migration files a node accepts, and whose identity a restored process may hold.
@Suite struct TrustUnitTests {
    @Test(arguments: [
        ("4c4201-7", true), ("000012-1", true), ("ffffff-123456789", true),
        ("../../etc", false), ("4c4201-7/..", false), ("4C4201-7", false), ("4c4201-", false), ("4c420-17", false),
        ("4c4201-7\u{0}x", false), ("", false), ("4c4201-1234567890", false), ("4c4201_7", false), ("4c4201-७", false),
    ])
    func jobIDs(id: String, valid: Bool) {
        #expect(Jobs.Layout.isJobID(id) == valid, "\(id.debugDescription)")
    }

    @Test func peersRunOnlyOrdinaryUsersUnlessTheProfileSaysOtherwise() {
        let trust = Jobs.Trust()
        #expect(trust.refusal(uid: 0, gid: 0, localGroups: [0])?.contains("not as root") == true)
        #expect(trust.refusal(uid: 999, gid: 1000, localGroups: nil) != nil, "a system account")
        #expect(trust.refusal(uid: 1000, gid: 1000, localGroups: nil) == nil)
        #expect(trust.refusal(uid: 1000, gid: 42, localGroups: [1000]) != nil, "an ordinary uid cannot claim the shadow group")
        #expect(trust.refusal(uid: 1000, gid: 100, localGroups: [1000, 100]) == nil, "one of the user's own groups")
        let open = Jobs.Trust(minimumPeerUID: 0)
        #expect(open.refusal(uid: 0, gid: 0, localGroups: nil) == nil)
        #expect(open.mayMigrate(owner: 0) && !trust.mayMigrate(owner: 0) && trust.mayMigrate(owner: 1000))
    }

    @Test func theNodesOwnUserDatabaseGivesAUsersGroups() {
        #expect(Jobs.Trust.localGroups(of: 0)?.contains(0) == true, "root is in group root")
        #expect(Jobs.Trust.localGroups(of: 4_294_967_293) == nil, "no passwd entry")
        #expect(Jobs.Trust().peerGroups([0, 27, 1000, 1001], gid: 1000) == [1000, 1001], "no system groups for a peer")
        #expect(Jobs.Trust().peerGroups([], gid: 100) == [100], "the primary group stays")
    }

    @Test func onlyTheOwnerOrRootActsOnAJobAndAPeersRootNeverOnAPrivilegedOne() {
        let trust = Jobs.Trust()
        #expect(trust.permits(1000, on: 1000, viaPeer: false))
        #expect(trust.permits(0, on: 1000, viaPeer: false))
        #expect(!trust.permits(1001, on: 1000, viaPeer: false))
        #expect(trust.permits(0, on: 0, viaPeer: false), "root on the job's own node")
        #expect(!trust.permits(0, on: 0, viaPeer: true), "a peer's word of root does not reach root's jobs")
        #expect(!trust.permits(1000, on: 0, viaPeer: true))
        #expect(trust.permits(0, on: 1000, viaPeer: true))
        #expect(Jobs.Trust(minimumPeerUID: 0).permits(0, on: 0, viaPeer: true))
    }

    static let status = """
        Name:\tpython3
        Uid:\t1000\t1000\t1000\t1000
        Gid:\t1000\t1000\t1000\t1000
        Groups:\t
        CapInh:\t0000000000000000
        CapPrm:\t0000000000000000
        CapEff:\t0000000000000000
        CapBnd:\t000001ffffffffff
        CapAmb:\t0000000000000000
        """

    @Test func aRestoredProcessMustHoldExactlyTheJobsIdentity() throws {
        let plain = try #require(Jobs.Credentials(status: Self.status))
        #expect(plain.matches(uid: 1000, gid: 1000, allowedGroups: []))
        #expect(!plain.matches(uid: 1001, gid: 1000, allowedGroups: []))
        let saved = try #require(Jobs.Credentials(status: Self.status.replacingOccurrences(of: "Uid:\t1000\t1000\t1000\t1000", with: "Uid:\t1000\t1000\t0\t1000")))
        #expect(!saved.matches(uid: 1000, gid: 1000, allowedGroups: []), "a saved uid of 0 could become root again")
        let shadow = try #require(Jobs.Credentials(status: Self.status.replacingOccurrences(of: "Groups:\t", with: "Groups:\t42")))
        #expect(!shadow.matches(uid: 1000, gid: 1000, allowedGroups: [1000]))
        #expect(shadow.matches(uid: 1000, gid: 1000, allowedGroups: [42]))
        let capable = try #require(Jobs.Credentials(status: Self.status.replacingOccurrences(of: "CapEff:\t0000000000000000", with: "CapEff:\t0000000000200000")))
        #expect(!capable.matches(uid: 1000, gid: 1000, allowedGroups: []))
        #expect(Jobs.Credentials(status: "Uid:\t1\n") == nil)
        #expect(Jobs.Credentials(status: "") == nil)
    }

    /// Beyond credentials, CRIU restores scheduling, limits and the OOM adjustment as root: a
    /// restored job may hold none that a job started on this node would not. A fake /proc.
    @Test func aRestoredProcessHoldsNoSchedulingOrLimitAJobStartedHereWouldNot() throws {
        let root = NSTemporaryDirectory() + "/limits-proc-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let limits = """
            Limit                     Soft Limit           Hard Limit           Units     
            Max cpu time              unlimited            unlimited            seconds   
            Max open files            1024                 65536                files     
            Max locked memory         8388608              8388608              bytes     
            Max nice priority         0                    0                    
            Max realtime priority     0                    0                    

            """
        let own = try #require(Jobs.Limits.hardLimits(limits))
        #expect(own["Max open files"] == .some(65536) && own["Max cpu time"] == .some(nil) && own["Max nice priority"] == .some(0))
        func process(policy: Int = 0, nice: Int = 0, limits text: String = limits, oom: String = "0\n") throws -> String? {
            try? FileManager.default.removeItem(atPath: root)
            try FileManager.default.createDirectory(atPath: root + "/7/task/8", withIntermediateDirectories: true)
            var fields = (3...52).map { _ in "0" }
            fields[19 - 3] = String(nice)
            fields[41 - 3] = String(policy)
            try ("7 (a job) ) " + fields.joined(separator: " ") + "\n").write(toFile: root + "/7/task/8/stat", atomically: true, encoding: .utf8)
            try text.write(toFile: root + "/7/limits", atomically: true, encoding: .utf8)
            try oom.write(toFile: root + "/7/oom_score_adj", atomically: true, encoding: .utf8)
            return Jobs.Limits.problem(pid: 7, threads: [8], ceilings: own, ownOOMAdjust: 0, procRoot: root)
        }
        #expect(try process() == nil)
        #expect(try process(policy: 3, nice: 19, oom: "500\n") == nil, "batch class, nicer, killed sooner: any user may")
        #expect(try process(policy: 1)?.contains("real-time") == true, "SCHED_FIFO")
        #expect(try process(policy: 2) != nil, "SCHED_RR")
        #expect(try process(policy: 6) != nil, "SCHED_DEADLINE")
        #expect(try process(nice: -5)?.contains("nice -5") == true)
        #expect(try process(oom: "-1000\n")?.contains("OOM") == true)
        #expect(try process(limits: limits.replacingOccurrences(of: "1024                 65536", with: "1024                 1048576"))?.contains("Max open files") == true)
        #expect(try process(limits: limits.replacingOccurrences(of: "8388608              8388608", with: "8388608              unlimited"))?.contains("unlimited") == true)
        #expect(try process(limits: limits.replacingOccurrences(of: "Max realtime priority     0                    0", with: "Max realtime priority     0                    99")) != nil)
        #expect(try process(limits: "Limit\n") != nil, "unreadable limits refuse")
        #expect(Jobs.Limits.scheduling(stat: "garbage") == nil)
        // A zombie CRIU restored for its parent to reap carries criu's own raised limits
        // (the nr_open open-files limit, seen in a CI run): it runs nothing, so they do not count.
        let raised = limits.replacingOccurrences(of: "1024                 65536", with: "1024                 1073741816")
        _ = try process(limits: raised)
        try "7 (sleep) Z 6 7 6 0 -1 4228100 0 0 0 0 0 0 0 0 20 0 1 0\n".write(toFile: root + "/7/stat", atomically: true, encoding: .utf8)
        #expect(Jobs.Limits.problem(pid: 7, threads: [8], ceilings: own, ownOOMAdjust: 0, procRoot: root) == nil, "a zombie's limits are criu's")
        try "7 (sleep) S 6 7 6 0 -1 4228100 0 0 0 0 0 0 0 0 20 0 1 0\n".write(toFile: root + "/7/stat", atomically: true, encoding: .utf8)
        #expect(Jobs.Limits.problem(pid: 7, threads: [8], ceilings: own, ownOOMAdjust: 0, procRoot: root)?.contains("1073741816") == true, "a live process's do")
        #expect(Jobs.Limits.isZombie(stat: "9 (a) Z) X 1") && !Jobs.Limits.isZombie(stat: "9 (a Z) R 1") && !Jobs.Limits.isZombie(stat: "garbage"))
    }

    /// A restored job's descriptors: only what its user could open, in that mode.
    @Test(.enabled(if: geteuid() == 0, "needs root: takes another user's file-system identity"))
    func aRestoredJobHoldsOnlyFilesItsUserCouldOpen() throws {
        #expect(Jobs.OpenFiles.accessMode(fdinfo: "pos:\t0\nflags:\t0100002\nmnt_id:\t25\n") == O_RDWR)
        #expect(Jobs.OpenFiles.accessMode(fdinfo: "flags:\t02100000\n") == O_RDONLY)
        #expect(Jobs.OpenFiles.accessMode(fdinfo: "garbage") == nil)
        #expect(Jobs.OpenFiles.mayOpen("/etc/passwd", uid: 65534, gid: 65534, groups: [], accessMode: O_RDONLY) == nil)
        #expect(Jobs.OpenFiles.mayOpen("/etc/passwd", uid: 65534, gid: 65534, groups: [], accessMode: O_WRONLY) != nil)
        #expect(Jobs.OpenFiles.mayOpen("/etc/shadow", uid: 65534, gid: 65534, groups: [], accessMode: O_RDONLY) != nil)
        #expect(Jobs.OpenFiles.mayOpen("/etc/passwd", uid: 0, gid: 0, groups: [], accessMode: O_RDWR) == nil, "root may")
        // This process itself, seen as nobody: it holds files (the test binary's own) nobody may
        // not write; as root, none is refused.
        #expect(Jobs.OpenFiles.problem(pid: getpid(), uid: 0, gid: 0, groups: []) == nil)
        #expect(getuid() == 0 && geteuid() == 0, "the identity is the thread's alone and restored")
    }

    @Test func migrationFilesFollowTheRulesBeforeTheyTouchTheDisk() throws {
        var intake = Migration.Intake(budget: 1000)
        #expect(try intake.admit(round: 0, path: "stdout", size: 10, link: nil) == .jobFile("stdout"))
        #expect(try intake.admit(round: 2, path: "pages-1.img", size: 100, link: nil) == .image(round: 2, name: "pages-1.img"))
        #expect(try intake.admit(round: 2, path: "parent", size: 0, link: "../1") == .parentLink(round: 2, target: "../1"))
        #expect(try intake.admit(round: -1, path: "/home/ada/out.dat", size: 10, link: nil) == .openFile("/home/ada/out.dat"))
        #expect(intake.budget == 880)
        let refused: [(Int, String, UInt64, String?)] = [
            (0, "../job.json", 1, nil), (0, "evil", 1, nil), (0, "stdout", 1, "/etc"),
            (1, "../x", 1, nil), (1, ".hidden", 1, nil), (1, "a/b", 1, nil), (1, "a\u{0}b", 1, nil), (1, "", 1, nil),
            (2, "parent", 0, "/etc"), (2, "parent", 0, "../2"), (2, "parent", 0, "../../1"), (2, "other", 0, "../1"),
            (-1, "relative/path", 1, nil), (-1, "/etc/../root/x", 1, nil), (-1, "/proc/1/mem", 1, nil), (-1, "/dev/sda", 1, nil),
            (-1, "/a//b", 1, nil), (-1, "/a/./b", 1, nil), (-1, "/a\u{0}b", 1, nil), (-1, "/", 1, nil), (-1, "/top", 1, "x"),
            (33, "pages-1.img", 1, nil), (-2, "x", 1, nil), (Int.max, "x", 1, nil), (Int.min, "x", 1, nil),
            (1, "pages-2.img", 881, nil), (1, String(repeating: "a", count: 256), 1, nil),
        ]
        for (round, path, size, link) in refused {
            #expect(throws: Migration.Intake.Refusal.self, "round \(round) \(path.debugDescription) link \(link ?? "-")") {
                try intake.admit(round: round, path: path, size: size, link: link)
            }
        }
        #expect(intake.budget == 880, "refused files cost nothing")
        #expect(Migration.Intake.shown("a\u{0}b\nc") == #""a\u{0}b\u{a}c""#)
    }

    @Test func theJobsEnvironmentTravelsAsNULSeparatedEntries() {
        let environment = ["PATH=/usr/bin", "EMPTY=", "WITH=equals=sign", "NOEQUALS", "NUL=a\u{0}b"]
        let bytes = Jobs.Launcher.encodeEnvironment(environment)
        #expect(Jobs.Launcher.decodeEnvironment(bytes) == ["PATH=/usr/bin", "EMPTY=", "WITH=equals=sign"])
        #expect(Processes.cleanEnvironment.allSatisfy { !$0.hasPrefix("LD_") && !$0.hasPrefix("GCONV") })
    }

    /// cjobs_open_as_user: the kernel checks the write as the user would be checked, and no
    /// symbolic link is followed. Needs root (it switches the thread's file-system identity).
    @Test(.enabled(if: geteuid() == 0, "switches identities")) func filesAreWrittenOnlyWhereTheUserCouldWrite() throws {
        let root = "/tmp/livebuild-userfiles-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/rootonly", withIntermediateDirectories: true)
        _ = chmod(root, 0o755)
        _ = chmod(root + "/rootonly", 0o755)
        try FileManager.default.createDirectory(atPath: root + "/ada", withIntermediateDirectories: true)
        _ = chown(root + "/ada", 1000, 1000)
        try FileManager.default.createSymbolicLink(atPath: root + "/ada/link", withDestinationPath: root + "/rootonly")

        let descriptor = try Jobs.UserFiles.create(root + "/ada/new/out.dat", uid: 1000, gid: 1000, groups: [1000], mode: 0o4755)
        close(descriptor)
        var info = stat()
        #expect(stat(root + "/ada/new/out.dat", &info) == 0 && info.st_uid == 1000 && info.st_gid == 1000)
        #expect(info.st_mode & 0o7000 == 0, "no setuid bit from the network")
        #expect(throws: Jobs.UserFiles.Failure.self, "a root-owned directory") {
            try Jobs.UserFiles.create(root + "/rootonly/x", uid: 1000, gid: 1000, groups: [1000], mode: 0o644)
        }
        #expect(throws: Jobs.UserFiles.Failure.self, "a symbolic link on the way") {
            try Jobs.UserFiles.create(root + "/ada/link/x", uid: 0, gid: 0, groups: [0], mode: 0o644)
        }
        try FileManager.default.createSymbolicLink(atPath: root + "/ada/final", withDestinationPath: root + "/rootonly/target")
        #expect(throws: Jobs.UserFiles.Failure.self, "a symbolic link at the end") {
            try Jobs.UserFiles.create(root + "/ada/final", uid: 0, gid: 0, groups: [0], mode: 0o644)
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/rootonly/target"))
        #expect(geteuid() == 0 && access(root + "/rootonly", W_OK) == 0, "the thread is root again")
    }
}
