import ClusterControl
import Foundation
import LoopbackHarness
import TestSupport
import Testing

/// Jobs on a real clusterd (as root, on this host): `cluster run`, `ps`, `logs`, `kill`, each
/// job in its own PID namespace, running as the user who started it.
@Suite(.serialized) struct JobsTests {
    let cluster: LoopbackCluster
    let cli: String

    init() throws {
        cluster = try LoopbackCluster(
            clusterd: try Products.path("clusterd"), count: 1,
            directory: NSTemporaryDirectory() + "/livebuild-loopback-jobs-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        cli = try Products.path("cluster")
        try cluster.start(0)
        try cluster.waitUntilAnswering(0)
    }

    /// `cluster SUBCOMMAND --socket S ARGUMENTS...` (the socket before any `--`).
    func cluster(_ arguments: [String], allowFailure: Bool = false) throws -> Tool.Output {
        try Tool.run([cli, arguments[0], "--socket", cluster.socket(0)] + arguments.dropFirst(), allowFailure: allowFailure)
    }

    func jobs() throws -> [Control.Job] {
        try JSONDecoder().decode([Control.Job].self, from: try cluster(["ps", "--json"]).stdout)
    }

    @Test func runWaitStreamsOutputAndReturnsTheStatusFromPIDOneOfItsNamespace() throws {
        defer { cluster.stopAll() }
        let result = try cluster(["run", "--wait", "--", "sh", "-c", "echo out; echo err >&2; echo pid $$; exit 7"], allowFailure: true)
        #expect(result.status == 7)
        #expect(result.text == "out\npid 1\n", "the job is its namespace's init")
        #expect(result.stderr == "err\n")
        let job = try #require(try jobs().first)
        #expect(job.state == .exited && job.exitCode == 7 && job.owner == "root")
        #expect(job.homeNode == cluster.hostname(0) && job.currentNode == job.homeNode && job.migrations == 0)
    }

    /// A job gets signals as any program started from a shell: none blocked, none ignored
    /// (the agent's helpers are Swift programs, whose threads block most signals, and the mask
    /// and ignored signals survive exec), so SIGTERM and SIGUSR1 reach it.
    @Test func aJobStartsWithNoSignalBlockedOrIgnored() throws {
        defer { cluster.stopAll() }
        let result = try cluster(["run", "--wait", "--", "grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"])
        let masks = result.text.split(separator: "\n").compactMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) }
        #expect(masks.count == 2, "\(result.text)")
        // Signals 1–31; glibc keeps 32 and 33 for itself (sigaction refuses them).
        #expect(masks.allSatisfy { $0 & 0x7fff_ffff == 0 }, "\(result.text)")
        // And a handler runs: the job waits for SIGUSR1 from outside. Sent once the trap is
        // set (it says "ready"): an init without a handler drops signals from outside its
        // namespace, and the launch chain runs first.
        let id = try cluster(["run", "--", "sh", "-c", "trap 'echo got usr1; exit 0' USR1; echo ready; while :; do sleep 0.1; done"]).text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var pid: Int32?
        let deadline = ContinuousClock.now + .seconds(30)
        while pid == nil && ContinuousClock.now < deadline {
            usleep(200_000)
            guard try cluster(["logs", id]).text == "ready\n" else { continue }
            let text = (try? String(contentsOfFile: cluster.jobsDirectory(0) + "/\(id)/job.json", encoding: .utf8)) ?? ""
            pid = (try? JSONDecoder().decode(HostPID.self, from: Data(text.utf8)))?.hostPID
        }
        let namespaceInit = try #require(pid, "the job said it was ready, and job.json names its host pid")
        #expect(kill(namespaceInit, SIGUSR1) == 0)
        var logs = ""
        while logs != "ready\ngot usr1\n" && ContinuousClock.now < deadline + .seconds(10) {
            usleep(200_000)
            logs = try cluster(["logs", id]).text
        }
        #expect(logs == "ready\ngot usr1\n")
        _ = try? cluster(["kill", id], allowFailure: true)
    }

    private struct HostPID: Decodable { var hostPID: Int32? }

    /// /proc has nothing of an ended job; `ps` shows what wait4 counted for its whole tree.
    @Test func anEndedJobKeepsItsCPUTime() throws {
        defer { cluster.stopAll() }
        // The CPU is used by a child of the job's init (`; true` keeps sh from exec'ing it).
        let result = try cluster(["run", "--wait", "--", "sh", "-c", "python3 -c 'sum(range(20000000))'; true"], allowFailure: true)
        #expect(result.status == 0, "\(result.stderr)")
        var job: Control.Job?
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            job = try jobs().first
            if job?.state != .running { break }
            usleep(100_000)
        }
        let ended = try #require(job)
        #expect(ended.state == .exited && ended.exitCode == 0)
        #expect(ended.cpuSeconds > 0.2, "the ended job's CPU time, its children's included: \(ended.cpuSeconds) s")
    }

    @Test func runReturnsAtOnceAndPsShowsTheRunningJob() throws {
        defer { cluster.stopAll() }
        let started = ContinuousClock.now
        let id = try cluster(["run", "--", "python3", "-c", "x = bytearray(40 << 20)\nimport time\nwhile True: sum(range(100000))"]).text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ContinuousClock.now - started < .seconds(5), "run does not wait for the job")
        #expect(id.hasSuffix("-1"))
        // Python takes a while to start and fill 40 MiB on a loaded host: wait for it (up to 15 s).
        var seen: Control.Job?
        let resident = ContinuousClock.now + .seconds(15)
        repeat {
            usleep(250_000)
            seen = try jobs().first { $0.id == id }
        } while ContinuousClock.now < resident && !((seen?.memoryKiB ?? 0) > 40 << 10 && (seen?.cpuSeconds ?? 0) > 0.02)
        let job = try #require(seen)
        #expect(job.state == .running && job.namespacePID == 1)
        #expect(job.memoryKiB > 40 << 10, "the 40 MiB buffer is resident: \(job.memoryKiB) KiB")
        #expect(job.cpuSeconds > 0.02, "a CPU-bound job has used CPU (little, on a loaded host)")

        _ = try cluster(["kill", id])
        let deadline = ContinuousClock.now + .seconds(10)
        var state: Control.Job.State?
        while ContinuousClock.now < deadline {
            state = try jobs().first { $0.id == id }?.state
            if state == .killed { break }
            usleep(100_000)
        }
        #expect(state == .killed)
        #expect(try jobs().first { $0.id == id }?.exitCode == 9)
    }

    @Test func jobRunsAsTheCallerAndOnlyTheyMayKillIt() throws {
        defer { cluster.stopAll() }
        chmod(cluster.socket(0), 0o666)  // the socket is root-only here; in images the `cluster` group opens it
        let asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", cli]
        let socket = ["--socket", cluster.socket(0)]
        let id = try Tool.run(asNobody + ["run"] + socket + ["--wait", "--", "id", "-u"])
        #expect(id.text == "65534\n")
        let sleeper = try Tool.run([cli, "run"] + socket + ["--", "sleep", "600"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        let refused = try Tool.run(asNobody + ["kill"] + socket + [sleeper], allowFailure: true)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("belongs to root"), "\(refused.stderr)")
        _ = try cluster(["kill", sleeper])
    }

    @Test func aJobOutlivesItsAgentAndTheNextAgentAdoptsIt() throws {
        defer { cluster.stopAll() }
        let id = try cluster(["run", "--", "sleep", "600"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        usleep(300_000)
        let pid = try #require(try jobs().first { $0.id == id }).namespacePID
        #expect(pid == 1)
        cluster.kill(0)
        try cluster.start(0)
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline && (try? jobs()) == nil { usleep(100_000) }
        let adopted = try #require(try jobs().first { $0.id == id })
        #expect(adopted.state == .running, "the job survived the agent and was adopted: \(adopted)")
        _ = try cluster(["kill", id])
        usleep(500_000)
        #expect(try jobs().first { $0.id == id }?.state == .killed)
    }

    @Test func stayPinsAJobAndDrainNeedsAnotherNode() throws {
        defer { cluster.stopAll() }
        let id = try cluster(["run", "--", "sleep", "600"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try cluster(["stay", id])
        #expect(try jobs().first { $0.id == id }?.stay == true)
        _ = try cluster(["unstay", id])
        #expect(try jobs().first { $0.id == id }?.stay == false)
        let lonely = try cluster(["drain"], allowFailure: true)
        #expect(lonely.status == 1 && lonely.stderr.contains("no other live node"), "\(lonely.stderr)")
        #expect(try jobs().first { $0.id == id }?.state == .running, "a drain with nowhere to go leaves the job running")
        _ = try cluster(["kill", id])
    }

    @Test func logsFollowPrintsOutputAsItComesUntilTheJobEnds() throws {
        defer { cluster.stopAll() }
        let id = try cluster(["run", "--", "sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.4; done"]).text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let followed = try cluster(["logs", "-f", id])
        #expect(followed.text == "line 1\nline 2\nline 3\n")
    }

    @Test func badRequestsGetClearErrors() throws {
        defer { cluster.stopAll() }
        let unknown = try cluster(["kill", "000000-99"], allowFailure: true)
        #expect(unknown.status == 1 && unknown.stderr.contains("no job 000000-99"), "\(unknown.stderr)")
        let malformed = try cluster(["kill", "nope-1"], allowFailure: true)
        #expect(malformed.status == 1 && malformed.stderr.contains("\"nope-1\" is not a job id"), "\(malformed.stderr)")
        let missing = try Tool.run(["sh", "-c", "mkdir -p /tmp/lb-gone-$$ && cd /tmp/lb-gone-$$ && rmdir /tmp/lb-gone-$$ && exec \"$0\" run --socket \"$1\" -- true", cli, cluster.socket(0)], allowFailure: true)
        #expect(missing.status == 1 && missing.stderr.contains("cannot tell the current directory"), "\(missing.stderr)")
        // A program that does not exist: the job starts and fails at once, and says why.
        let id = try cluster(["run", "--", "/nonexistent/program"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, try jobs().first(where: { $0.id == id })?.state == .running { usleep(100_000) }
        let job = try #require(try jobs().first { $0.id == id })
        #expect(job.state == .exited && job.exitCode == 127)
        let logs = try cluster(["logs", id])
        #expect(logs.stderr.contains("/nonexistent/program"), "setpriv names the missing program: \(logs.stderr)")
    }
}
