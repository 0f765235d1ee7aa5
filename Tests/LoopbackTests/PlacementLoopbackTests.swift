import ClusterControl
import Foundation
import LoopbackHarness
import TestSupport
import Testing

/// `cluster run` placing jobs over five real agents on loopback: a burst spreads evenly, a job
/// outside shared storage or pinned stays, labels select nodes, and `cluster-sh` and
/// `cluster run --wait` behave as a foreground shell (output, status, Ctrl-C).
@Suite(.serialized, .enabled(if: geteuid() == 0, "runs jobs as another user")) struct PlacementLoopbackTests {
    @Test func placedJobsSpreadAndStayWhereTheyMust() async throws {
        let directory = NSTemporaryDirectory() + "/livebuild-loopback-placement-\(getpid())"
        let count = 5
        let cluster = try LoopbackCluster(clusterd: try Products.path("clusterd"), count: count, directory: directory)
        defer { cluster.stopAll() }
        // Every agent on this host sees the same directory: the cluster's shared storage here.
        let shared = (directory + "/shared").replacing("//", with: "/")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        chmod(shared, 0o777)
        for index in 0..<count {
            try cluster.start(
                index, kernelCommandLine: index == 3 ? "cluster.labels=gpu=yes" : "",
                extraArguments: ["--shared-directory", shared, "--log-level", "debug"])
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline,
              !(0..<count).allSatisfy({ cluster.nodes($0)?.filter { $0.state == .alive }.count == count }) {
            try await Task.sleep(for: .milliseconds(100))
        }
        // Labels travel with gossip.
        while ContinuousClock.now < deadline, cluster.nodes(0)?.first(where: { $0.hostname == cluster.hostname(3) })?.labels?["gpu"] != "yes" {
            try await Task.sleep(for: .milliseconds(100))
        }
        let cli = try Products.path("cluster")
        // As an ordinary user (in group root, which the loopback control sockets admit): other
        // nodes run no one's jobs as root (cluster.trust.minimumPeerUID).
        func user(_ script: String, allowFailure: Bool = false) throws -> Tool.Output {
            try Tool.run(
                ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--groups=0", "--", "/bin/sh", "-c", script],
                allowFailure: allowFailure)
        }
        let socket = cluster.socket(0)
        func jobs() throws -> [Control.Job] {
            try JSONDecoder().decode([Control.Job].self, from: try user("\(cli) ps --json --socket \(socket)").stdout)
        }

        // A burst of 30, all typed on node 0 at once.
        // (xargs rather than `&` and `wait`: the test runner's children start with SIGCHLD blocked.)
        let burstStart = ContinuousClock.now
        let burst = try user("cd \(shared) && seq 30 | xargs -P 30 -I{} \(cli) run --socket \(socket) -- sleep 300")
        let ids = burst.text.split(separator: "\n").map(String.init)
        #expect(ids.count == 30, "\(burst.text) \(burst.stderr)")
        var running = try jobs().filter { ids.contains($0.id) && $0.state == .running }
        var perNode = Dictionary(grouping: running, by: \.currentNode).mapValues(\.count)
        #expect(running.count == 30 && perNode.count == count, "\(perNode) \(Set(running.map { $0.placement ?? "none" }))")
        #expect((perNode.values.max() ?? 0) - (perNode.values.min() ?? 0) <= 1, "within one job of even: \(perNode)")
        print("placement: a burst of 30 over \(count) agents in \(ContinuousClock.now - burstStart): \(perNode.sorted { $0.key < $1.key })")
        for job in running where job.currentNode != cluster.hostname(0) {
            #expect(job.placement?.hasPrefix("placed from \(cluster.hostname(0)): cost") == true, "\(job.placement ?? "none")")
        }
        for job in running where job.currentNode == cluster.hostname(0) {
            #expect(job.placement?.hasPrefix("here: least cost") == true, "\(job.placement ?? "none")")
        }

        // Outside shared storage, pinned, or with a label only node 3 has.
        let tmp = try user("cd /tmp && \(cli) run --socket \(socket) -- sleep 300").text.trimmingCharacters(in: .whitespacesAndNewlines)
        let pinned = try user("cd \(shared) && \(cli) run --stay --socket \(socket) -- sleep 300").text.trimmingCharacters(in: .whitespacesAndNewlines)
        let gpu = try user("cd \(shared) && \(cli) run --label gpu=yes --socket \(socket) -- sleep 300").text.trimmingCharacters(in: .whitespacesAndNewlines)
        let none = try user("cd \(shared) && \(cli) run --label gpu=no --socket \(socket) -- sleep 300", allowFailure: true)
        #expect(none.status == 1 && none.stderr.contains("no live node with gpu=no"), "\(none.stderr)")
        let missing = try user("cd \(shared) && \(cli) run --socket \(socket) -- no-such-program-here", allowFailure: true)
        running = try jobs()
        func job(_ id: String) -> Control.Job? { running.first { $0.id == id } }
        #expect(job(tmp)?.currentNode == cluster.hostname(0) && job(tmp)?.placement == "here: /tmp is not on shared storage (\(shared))",
                "\(String(describing: job(tmp)))")
        #expect(job(pinned)?.currentNode == cluster.hostname(0) && job(pinned)?.placement == "here: --stay")
        #expect(job(gpu)?.currentNode == cluster.hostname(3) && job(gpu)?.placement?.contains("the only node with gpu=yes") == true,
                "\(String(describing: job(gpu)))")
        let missingID = missing.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(job(missingID)?.placement == "here: no-such-program-here was not found in PATH", "\(missing.text) \(missing.stderr)")
        perNode = Dictionary(grouping: running.filter { $0.state == .running }, by: \.currentNode).mapValues(\.count)

        // The shell: output streamed, the status passed on, from wherever it was placed.
        let shell = try user(
            "cd \(shared) && CLUSTER_SOCKET=\(socket) \(cli) sh -c 'echo out; echo err >&2; exit 3'", allowFailure: true)
        #expect(shell.status == 3 && shell.text == "out\n" && shell.stderr == "err\n", "\(shell.status) \(shell.text) \(shell.stderr)")
        let link = directory + "/cluster-sh"
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: cli)
        let viaLink = try user("cd \(shared) && CLUSTER_SOCKET=\(socket) \(link) -ec 'echo \"$0 $1\"; false; echo unreached' name one", allowFailure: true)
        #expect(viaLink.status == 1 && viaLink.text == "name one\n", "\(viaLink.status) \(viaLink.text) \(viaLink.stderr)")
        let plain = try user("CLUSTER_SOCKET=\(socket) \(link) -c 'exit 0' && echo 'echo script' | \(link)")
        #expect(plain.text == "script\n", "without -c it is /bin/sh here: \(plain.text)")

        // A reader that goes away ends the job, as SIGPIPE ends a pipeline's writer.
        let piped = try user("cd \(shared) && CLUSTER_SOCKET=\(socket) \(cli) sh -c 'while :; do echo y; done' | head -n 1")
        #expect(piped.text == "y\n", "\(piped.text.prefix(20)) \(piped.stderr)")
        try await Task.sleep(for: .seconds(1))
        let yes = try jobs().filter { $0.arguments == ["/bin/sh", "-c", "while :; do echo y; done"] }
        #expect(yes.count == 1 && yes.first?.state == .killed, "\(yes.map { "\($0.id) \($0.state)" })")

        // Ctrl-C on a waiting `cluster run` kills the job and exits 130.
        let waiting = Process()
        waiting.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        waiting.arguments = ["--reuid=1000", "--regid=1000", "--groups=0", "--", cli, "run", "--wait", "--socket", socket, "--",
                             "sh", "-c", "echo started; exec sleep 300"]
        waiting.currentDirectoryURL = URL(fileURLWithPath: shared)
        let output = Pipe()
        waiting.standardOutput = output
        try waiting.run()
        try await Task.sleep(for: .seconds(2))
        waiting.interrupt()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        waiting.waitUntilExit()
        #expect(waiting.terminationStatus == 130 && String(decoding: printed, as: UTF8.self) == "started\n",
                "\(waiting.terminationStatus) \(String(decoding: printed, as: UTF8.self))")
        let last = try jobs().filter { $0.arguments.last == "echo started; exec sleep 300" }
        #expect(last.count == 1 && last.first?.state == .killed, "\(last)")
    }
}
