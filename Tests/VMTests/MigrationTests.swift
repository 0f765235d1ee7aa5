import ClusterControl
import Foundation
import Qemu
import Testing
import TestSupport
import VirtualCluster

/// The migration engine on two TCG nodes of the default profile, with real CRIU inside the
/// guests: a job's state survives A → B → A; a Python program and a multithreaded Python
/// program with a forked child, moved mid-run, finish with the right answers; automatic
/// balancing spreads four CPU-bound jobs started on one node and beats the same jobs unbalanced.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root: network namespaces and taps"))
struct MigrationTests {
    static let runDirectory = Repository.root + "/.build/mig-test"
    static let bootDeadline: Duration = .seconds(420)

    /// 200 MB of known bytes, then a counter and the buffer's checksum every 0.1 s.
    static let stateJob = """
        import hashlib, os, time
        buffer = bytearray(200 * 1024 * 1024)
        for i in range(0, len(buffer), 4096):
            buffer[i] = (i // 4096) % 251
        digest = hashlib.sha256(buffer).hexdigest()[:16]
        counter = 0
        while True:
            counter += 1
            print(counter, digest, os.getpid(), flush=True)
            time.sleep(0.1)
        """

    /// A known result: the number of primes below 1,000,000, by trial division (slow on purpose).
    static let primes = """
        import math
        def prime(n):
            if n < 2: return False
            for d in range(2, math.isqrt(n) + 1):
                if n % d == 0: return False
            return True
        print(sum(1 for n in range(1000000) if prime(n)), flush=True)
        """

    /// Three threads and a forked child each hash a range; the parent joins them and prints
    /// the four digests (known: computed once with CPython 3, deterministic).
    static let threaded = """
        import hashlib, os, threading
        def work(start, count):
            h = hashlib.sha256()
            for i in range(start, start + count):
                h.update(hashlib.sha256(str(i).encode()).digest())
            return h.hexdigest()[:12]
        N = 1600000
        results = {}
        def thread(k):
            results[k] = work(k * N, N)
        read, write = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(read)
            os.write(write, work(3 * N, N).encode())
            os._exit(0)
        os.close(write)
        threads = [threading.Thread(target=thread, args=(k,)) for k in range(3)]
        for t in threads: t.start()
        for t in threads: t.join()
        from_child = os.read(read, 64).decode()
        os.waitpid(child, 0)
        print(" ".join(results[k] for k in range(3)), from_child, flush=True)
        """
    static let threadedResult = "5344fe5d086e 455aa4fddc49 1952f5a88a19 4c86dbc6c516\n"

    /// CPU-bound, about 30 s alone on a TCG vCPU: 2.5 million chained SHA-256 hashes.
    static let burn = """
        import hashlib
        h = b""
        for i in range(2500000):
            h = hashlib.sha256(h).digest()
        print(h.hex()[:8], flush=True)
        """

    @Test func jobsMoveWithTheirStateAndFinishRight() async throws {
        let image = try await Fixtures.shared.image("cluster")
        try await VirtualCluster.down(runDirectory: Self.runDirectory)
        let cluster = try await VirtualCluster.up(
            .init(runDirectory: Self.runDirectory, nodes: [image.iso, image.iso].map(VirtualCluster.NodeSpec.init(image:)),
                  memoryMiB: 2048, cpus: 1),
            timeout: Self.bootDeadline)
        defer {
            VirtualClusterTests.keepAndScanConsoleLogs(cluster.nodes, prefix: "migration")
            Task { try? await VirtualCluster.down(runDirectory: Self.runDirectory) }
        }
        do {
            try await Self.exercise(cluster)
        } catch {
            Issue.record("migration test failed: \(error)\n\(await VirtualClusterTests.agentJournals(cluster))")
        }
        try await VirtualCluster.down(runDirectory: Self.runDirectory)
    }

    static func exercise(_ cluster: VirtualCluster.Controller) async throws {
        let node1 = "node-4c4201", node2 = "node-4c4202"
        try await waitUntil("both agents list each other alive", deadline: .seconds(180)) {
            let nodes = try await json([Control.Node].self, cluster, "node1", "cluster nodes --json")
            return nodes.count == 2 && nodes.allSatisfy { $0.state == "alive" }
        }

        // Explicit moves first: automatic balancing would move the jobs by itself.
        for node in ["node1", "node2"] { _ = try await shell(cluster, node, "cluster balance off") }

        // 1. State: A → B → A, the counter never skips or restarts, the checksum never changes,
        //    the PID inside the job's namespace stays 1.
        try await write(stateJob, to: "/tmp/state.py", on: "node1", cluster)
        let id = try await run(cluster, "node1", "cd /tmp && cluster run -- python3 /tmp/state.py")
        try await waitUntil("the state job prints", deadline: .seconds(120)) {
            try await shell(cluster, "node1", "cluster logs \(id) | wc -l").trimmingCharacters(in: .whitespacesAndNewlines) != "0"
        }
        let there = try await json(Control.MigrationReport.self, cluster, "node1", "cluster migrate --json \(id) \(node2)")
        print("migration: 200 MB job \(node1) → \(node2): total \(there.totalSeconds) s, frozen \(there.frozenSeconds) s, final dump \(there.dumpSeconds) s, pre-copy rounds \(there.precopyRounds)")
        try await Task.sleep(for: .seconds(2))
        let back = try await json(Control.MigrationReport.self, cluster, "node1", "cluster migrate --json \(id) home")
        print("migration: back home: total \(back.totalSeconds) s, frozen \(back.frozenSeconds) s, final dump \(back.dumpSeconds) s")
        try await Task.sleep(for: .seconds(2))
        let jobs = try await json([Control.Job].self, cluster, "node2", "cluster ps --json")
        let job = try #require(jobs.first { $0.id == id })
        #expect(job.state == "running" && job.currentNode == node1 && job.migrations == 2 && job.namespacePID == 1)
        let lines = try await shell(cluster, "node2", "cluster logs \(id)").split(separator: "\n")
        let rows = lines.map { $0.split(separator: " ") }
        #expect(rows.count > 20)
        var previous = 0
        for row in rows {
            guard row.count == 3, let counter = Int(row[0]) else { Issue.record("unexpected line \(row)"); break }
            #expect(counter == previous + 1, "the counter went \(previous) → \(counter): a gap or a restart")
            previous = counter
        }
        #expect(Set(rows.map { $0.count > 1 ? String($0[1]) : "" }).count == 1, "the checksum changed")
        #expect(Set(rows.map { $0.count > 2 ? String($0[2]) : "" }) == ["1"], "os.getpid() is 1 in the job's namespace throughout")
        _ = try await shell(cluster, "node1", "cluster kill \(id)")

        // 2. Real programs moved mid-run: a Python computation, and a Python program with
        //    three threads and a forked child (a process tree with a pipe), give the right answers.
        try await write(primes, to: "/tmp/primes.py", on: "node1", cluster)
        try await write(threaded, to: "/tmp/threaded.py", on: "node1", cluster)
        let python = try await run(cluster, "node1", "cd /tmp && cluster run -- python3 /tmp/primes.py")
        let tree = try await run(cluster, "node1", "cd /tmp && cluster run -- python3 /tmp/threaded.py")
        try await Task.sleep(for: .seconds(5))
        for moving in [python, tree] {
            let report = try await json(Control.MigrationReport.self, cluster, "node1", "cluster migrate --json \(moving) \(node2)")
            print("migration: \(moving) moved mid-run in \(report.totalSeconds) s (frozen \(report.frozenSeconds) s)")
        }
        for finished in [python, tree] {
            try await waitUntil("job \(finished) ends", deadline: .seconds(900)) {
                try await json([Control.Job].self, cluster, "node1", "cluster ps --json").first { $0.id == finished }?.state != "running"
            }
        }
        let finalJobs = try await json([Control.Job].self, cluster, "node1", "cluster ps --json")
        for finished in [python, tree] {
            let job = try #require(finalJobs.first { $0.id == finished })
            #expect(job.state == "exited" && job.exitCode == 0 && job.migrations == 1 && job.currentNode == node2, "\(job)")
        }
        #expect(try await shell(cluster, "node1", "cluster logs \(python)") == "78498\n", "π(1,000,000) = 78,498")
        #expect(try await shell(cluster, "node1", "cluster logs \(tree)") == threadedResult)

        // 3. Automatic balancing: 4 equal CPU-bound jobs started on node1 (1 vCPU per node)
        //    spread by themselves, against the same jobs with balancing off.
        try await write(burn, to: "/tmp/burn.py", on: "node1", cluster)
        let off = try await makespan(of: 4, cluster)
        for node in ["node1", "node2"] { _ = try await shell(cluster, node, "cluster balance on") }
        let on = try await makespan(of: 4, cluster)
        print("balancing: 4 CPU-bound jobs started on node1: makespan \(off.seconds) s with balancing off, \(on.seconds) s on (\(on.moved) of them moved), speedup \(Double(off.seconds) / Double(max(on.seconds, 1)))")
        #expect(on.moved >= 1, "the balancer moved jobs to the idle node")
        #expect(Double(off.seconds) >= 1.5 * Double(on.seconds), "speedup at least 1.5×: \(off.seconds) s off, \(on.seconds) s on")
    }

    /// Failures mid-migration, on three nodes: the destination dies while pre-copy pages are
    /// on their way (the job goes on at the source), then the source dies right after the
    /// destination confirmed the restore (the job goes on at the destination). Both are real
    /// deaths (the node's QEMU is killed with SIGKILL); fault points hold the agent at the
    /// exact step until the kill (Docs/migration.md, "Testing failures").
    @Test func jobsSurviveANodeDyingMidMigration() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let runDirectory = Repository.root + "/.build/mig-fault-test"
        try await VirtualCluster.down(runDirectory: runDirectory)
        let cluster = try await VirtualCluster.up(
            .init(runDirectory: runDirectory, nodes: [image.iso, image.iso, image.iso].map(VirtualCluster.NodeSpec.init(image:)),
                  memoryMiB: 2048, cpus: 1),
            timeout: Self.bootDeadline)
        defer {
            VirtualClusterTests.keepAndScanConsoleLogs(cluster.nodes, prefix: "migration-fault")
            Task { try? await VirtualCluster.down(runDirectory: runDirectory) }
        }
        do {
            try await Self.survive(cluster)
        } catch {
            Issue.record("migration fault test failed: \(error)\n\(await VirtualClusterTests.agentJournals(cluster))")
        }
        try await VirtualCluster.down(runDirectory: runDirectory)
    }

    static func survive(_ cluster: VirtualCluster.Controller) async throws {
        let node1 = "node-4c4201", node2 = "node-4c4202", node3 = "node-4c4203"
        try await waitUntil("three agents list each other alive", deadline: .seconds(240)) {
            let nodes = try await json([Control.Node].self, cluster, "node1", "cluster nodes --json")
            return nodes.count == 3 && nodes.allSatisfy { $0.state == "alive" }
        }
        for node in ["node1", "node2", "node3"] { _ = try await shell(cluster, node, "cluster balance off") }
        try await write(stateJob, to: "/tmp/state.py", on: "node1", cluster)
        let id = try await run(cluster, "node1", "cd /tmp && cluster run -- python3 /tmp/state.py")
        try await waitUntil("the state job prints", deadline: .seconds(120)) {
            try await shell(cluster, "node1", "cluster logs \(id) | wc -l").trimmingCharacters(in: .whitespacesAndNewlines) != "0"
        }

        // 1. The destination dies mid-migration: node2 is killed while the first pre-copy round
        //    arrives. The source notices (TCP user timeout), and the job runs on at node1.
        _ = try await shell(cluster, "node2", "mkdir -p /run/clusterd/faults && touch /run/clusterd/faults/destination-receiving")
        // The guest agent serves one command at a time: this one holds node1's until it ends,
        // and the test watches node2 meanwhile.
        let first = Task { try await cluster.exec("node1", command: "cluster migrate \(id) \(node2)", timeout: .seconds(300)) }
        try await waitUntil("node2 receives pre-copy pages", deadline: .seconds(120)) {
            try await shell(cluster, "node2", "ls /run/clusterd/faults").contains("destination-receiving.reached")
        }
        let killedDestination = ContinuousClock.now
        try await cluster.kill("node2")
        let refused = try await first.value
        print("fault: destination killed mid pre-copy; `cluster migrate` gave up after \(ContinuousClock.now - killedDestination): \(VirtualClusterTests.text(refused.standardError).trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(refused.exitCode != 0, "the migration to a dead node fails")
        let countBefore = try await counter(of: id, on: "node1", cluster)
        try await Task.sleep(for: .seconds(3))
        let countAfter = try await counter(of: id, on: "node1", cluster)
        #expect(countAfter > countBefore + 10, "the job runs on at the source: counter \(countBefore) → \(countAfter) in 3 s")
        let atSource = try #require(try await json([Control.Job].self, cluster, "node1", "cluster ps --json").first { $0.id == id })
        #expect(atSource.state == "running" && atSource.currentNode == node1 && atSource.migrations == 0, "\(atSource)")

        // 2. The source dies right after the destination confirmed: node1 is held after the
        //    `restored` answer and killed. node3 notices the dead stream (TCP keepalive) and
        //    lets its restored copy run.
        _ = try await shell(cluster, "node1", "mkdir -p /run/clusterd/faults && touch /run/clusterd/faults/source-after-restored")
        // In the background on the node: the guest agent serves one command at a time, and the
        // test must ask node1 whether it reached the fault point meanwhile.
        _ = try await shell(cluster, "node1", "setsid -f sh -c 'cluster migrate \(id) \(node3) > /tmp/migrate.out 2>&1' < /dev/null > /dev/null 2>&1")
        try await waitUntil("node3 has restored the job", deadline: .seconds(300)) {
            try await shell(cluster, "node1", "ls /run/clusterd/faults").contains("source-after-restored.reached")
        }
        let killedSource = ContinuousClock.now
        try await cluster.kill("node1")
        var resumed = 0
        try await waitUntil("the job runs on at node3", deadline: .seconds(120)) {
            let now = try await counter(of: id, on: "node3", cluster)
            defer { resumed = now }
            return resumed > 0 && now > resumed
        }
        print("fault: source killed after the restore was confirmed; the job ran on at \(node3) \(ContinuousClock.now - killedSource) later")
        let atDestination = try #require(try await json([Control.Job].self, cluster, "node3", "cluster ps --json").first { $0.id == id })
        #expect(atDestination.state == "running" && atDestination.currentNode == node3 && atDestination.migrations == 1, "\(atDestination)")

        // Nothing lost: one unbroken counter from the first line to the last, same checksum,
        // same PID inside the job's namespace.
        let rows = try await shell(cluster, "node3", "cluster logs \(id)").split(separator: "\n").map { $0.split(separator: " ") }
        var previous = 0
        for row in rows {
            guard row.count == 3, let value = Int(row[0]) else { Issue.record("unexpected line \(row)"); break }
            #expect(value == previous + 1, "the counter went \(previous) → \(value): a gap or a restart")
            previous = value
        }
        #expect(previous > countAfter, "the log at node3 goes on from where node1 left it")
        #expect(Set(rows.map { $0.count > 1 ? String($0[1]) : "" }).count == 1, "the checksum changed")
        #expect(Set(rows.map { $0.count > 2 ? String($0[2]) : "" }) == ["1"], "os.getpid() is 1 in the job's namespace throughout")
    }

    /// The counter of the state job's last complete line.
    static func counter(of id: String, on node: String, _ cluster: VirtualCluster.Controller) async throws -> Int {
        // The last complete line: the one being written may be cut short.
        let last = try await shell(cluster, node, "cluster logs \(id) | tail -n 2 | head -n 1")
        return Int(last.split(separator: " ").first ?? "") ?? 0
    }

    /// Starts `count` burn jobs on node1 and waits for them: seconds from the first start to
    /// the last end, and how many ran elsewhere at the end.
    static func makespan(of count: Int, _ cluster: VirtualCluster.Controller) async throws -> (seconds: Int, moved: Int) {
        var ids: [String] = []
        for _ in 0..<count { ids.append(try await run(cluster, "node1", "cd /tmp && cluster run -- python3 /tmp/burn.py")) }
        var jobs: [Control.Job] = []
        try await waitUntil("\(count) burn jobs end", deadline: .seconds(900)) {
            jobs = try await json([Control.Job].self, cluster, "node1", "cluster ps --json").filter { ids.contains($0.id) }
            return jobs.count == count && jobs.allSatisfy { $0.state != "running" }
        }
        for job in jobs {
            #expect(job.state == "exited" && job.exitCode == 0, "\(job)")
            #expect(try await shell(cluster, "node1", "cluster logs \(job.id)") == "ad5919b9\n")
        }
        let start = jobs.map(\.startedAt).min() ?? 0
        let end = jobs.compactMap(\.endedAt).max() ?? 0
        return (Int(end) - Int(start), jobs.filter { $0.currentNode != "node-4c4201" }.count)
    }

    // MARK: Helpers

    static func shell(_ cluster: VirtualCluster.Controller, _ node: String, _ command: String, timeout: Duration = .seconds(300)) async throws -> String {
        let result = try await cluster.exec(node, command: command, timeout: timeout)
        guard result.exitCode == 0 else {
            throw VMTestFailure("\(node): `\(command)` exited \(result.exitCode): \(VirtualClusterTests.text(result.standardError))")
        }
        return VirtualClusterTests.text(result.standardOutput)
    }

    static func run(_ cluster: VirtualCluster.Controller, _ node: String, _ command: String) async throws -> String {
        try await shell(cluster, node, command).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func json<T: Decodable>(_ type: T.Type, _ cluster: VirtualCluster.Controller, _ node: String, _ command: String) async throws -> T {
        let text = try await shell(cluster, node, command, timeout: .seconds(900))
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    static func write(_ text: String, to path: String, on node: String, _ cluster: VirtualCluster.Controller) async throws {
        let encoded = Data(text.utf8).base64EncodedString()
        _ = try await shell(cluster, node, "echo \(encoded) | base64 -d > \(path)")
    }

    static func waitUntil(_ what: String, deadline: Duration, _ condition: () async throws -> Bool) async throws {
        let end = ContinuousClock.now + deadline
        var lastError: Error?
        while ContinuousClock.now < end {
            do {
                if try await condition() { return }
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .seconds(1))
        }
        throw VMTestFailure("timed out after \(deadline) waiting until \(what)\(lastError.map { " (last error: \($0))" } ?? "")")
    }
}
