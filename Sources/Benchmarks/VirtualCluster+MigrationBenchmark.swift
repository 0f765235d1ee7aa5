import ClusterControl
import Foundation
import VirtualCluster

extension VirtualCluster {
    /// Freeze and total time of moving jobs of several sizes between two QEMU nodes booted from
    /// `image`: with pre-copy (`cluster migrate`), without (`--no-precopy`), by post-copy
    /// (`--postcopy`), and beside plain CRIU
    /// (`criu dump` streaming pages to a `criu page-server` on the other node, the rest of the
    /// images copied over the same link, then `criu restore`) on a fresh copy of the same job.
    ///
    /// The job holds `size` MiB of written pages and prints a counter every 0.1 s, writing one
    /// page of its buffer each time. Times are taken inside the guests (the agent's report, and
    /// `date` around each criu run), so guest-agent round trips do not count.
    public static func migrationBenchmark(
        image: String, sizesMiB: [Int], writerMiB: Int? = nil, lazy: Bool = true, memoryMiB: Int, cpus: Int, runDirectory: String,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> MigrationBenchmark {
        _ = try await down(runDirectory: runDirectory)
        let cluster = try await up(
            .init(runDirectory: runDirectory, image: image, count: 2, memoryMiB: memoryMiB, cpus: cpus), timeout: .seconds(600))
        do {
            var report = MigrationBenchmark(memoryMiB: memoryMiB, cpus: cpus, rows: [])
            let bench = MigrationBench(cluster: cluster, progress: progress, lazy: lazy)
            try await bench.prepare()
            for size in sizesMiB {
                report.rows += try await bench.measure(sizeMiB: size)
            }
            if let writerMiB {
                report.rows += try await bench.measureWriter(sizeMiB: writerMiB)
            }
            _ = try await down(runDirectory: runDirectory)
            return report
        } catch {
            progress("failed: \(error)\n\(consoleTails(cluster.nodes, lines: 20))")
            _ = try? await down(runDirectory: runDirectory)
            throw error
        }
    }

    /// One ``migrationBenchmark(image:sizesMiB:memoryMiB:cpus:runDirectory:progress:)`` run.
    struct MigrationBench {
        let cluster: Controller
        let progress: @Sendable (String) -> Void
        /// Also measure CRIU's lazy migration.
        var lazy = true
        static let job = """
            import sys, time
            size = int(sys.argv[1]) * 1024 * 1024
            buffer = bytearray(size)
            for i in range(0, size, 4096):
                buffer[i] = (i // 4096) % 251 + 1
            counter = 0
            while True:
                counter += 1
                buffer[(counter * 4096) % size] = counter % 256
                print(counter, flush=True)
                time.sleep(0.1)
            """
        /// Samples MemAvailable (KiB) every 0.2 s into /tmp/mem.log until killed: one Python
        /// process, so the sampling costs the guest little.
        static let memorySampler = """
            import time
            with open("/tmp/mem.log", "w") as log:
                while True:
                    with open("/proc/meminfo") as info:
                        for line in info:
                            if line.startswith("MemAvailable:"):
                                log.write(line.split()[1] + "\\n")
                                log.flush()
                    time.sleep(0.2)
            """
        /// Starts a job as uid 1000 (a member of the `cluster` group): the trust model keeps root's
        /// jobs on their node (`cluster.trust.minimumPeerUID`, 1000 in the default profile).
        static func asUser(_ command: String) -> String {
            #"cd /tmp && setpriv --reuid=1000 --regid=1000 --groups="$(getent group cluster | cut -d: -f3)" "# + command
        }
        /// Options of every plain `criu dump` and `criu restore` here, as the agent passes them.
        static let criuOptions = "--file-locks --link-remap -v2"
        static let pagePort = 27027
        static let filePort = 27028

        func shell(_ node: String, _ command: String, timeout: Duration = .seconds(900)) async throws -> String {
            let result = try await cluster.exec(node, command: command, timeout: timeout)
            let output = String(decoding: result.standardOutput, as: UTF8.self)
            guard result.exitCode == 0 else {
                throw Error(.exec, "\(node): `\(command)` exited \(result.exitCode.map(String.init) ?? "abnormally"): \(String(decoding: result.standardError, as: UTF8.self))\(output)")
            }
            return output.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func json<T: Decodable>(_ type: T.Type, _ node: String, _ command: String) async throws -> T {
            let text = try await shell(node, command)
            do {
                return try JSONDecoder().decode(T.self, from: Data(text.utf8))
            } catch {
                throw Error(.exec, "\(node): `\(command)` printed no \(T.self): \(text.prefix(300))")
            }
        }

        /// Waits until both agents list each other alive, turns balancing off (the benchmark
        /// moves jobs itself) and writes the job's program on both nodes.
        func prepare() async throws {
            let deadline = ContinuousClock.now + .seconds(300)
            while true {
                if let nodes = try? await json([Control.Node].self, "node1", "cluster nodes --json"),
                   nodes.count == 2, nodes.allSatisfy({ $0.state == .alive }) { break }
                guard ContinuousClock.now < deadline else { throw Error(.boot, "the two agents never listed each other alive") }
                try await Task.sleep(for: .seconds(1))
            }
            for node in ["node1", "node2"] {
                _ = try await shell(node, "cluster balance off")
                for (name, program) in [("job", Self.job), ("writer", MigrationBenchmark.writerProgram), ("memory", Self.memorySampler)] {
                    _ = try await shell(node, "echo \(Data(program.utf8).base64EncodedString()) | base64 -d > /tmp/\(name).py")
                }
            }
            progress("two nodes up, balancing off")
        }

        func nodes() async throws -> (source: Control.Node, destination: Control.Node) {
            let nodes = try await json([Control.Node].self, "node1", "cluster nodes --json")
            guard let me = nodes.first(where: { $0.isSelf }), let other = nodes.first(where: { !$0.isSelf }) else {
                throw Error(.exec, "node1 does not list itself and one other node")
            }
            return (me, other)
        }

        func waitForOutput(_ node: String, _ command: String) async throws {
            let deadline = ContinuousClock.now + .seconds(600)
            while (try? await shell(node, command)).map({ !$0.isEmpty && $0 != "0" }) != true {
                guard ContinuousClock.now < deadline else { throw Error(.exec, "\(node): `\(command)` stayed empty for 600 s") }
                try await Task.sleep(for: .seconds(1))
            }
        }

        func measure(sizeMiB size: Int) async throws -> [MigrationBenchmark.Row] {
            let (source, destination) = try await nodes()
            var rows: [MigrationBenchmark.Row] = []

            // Through the agent: with pre-copy there, without it back home.
            let id = try await shell("node1", Self.asUser("cluster run -- python3 /tmp/job.py \(size)"))
            try await waitForOutput("node1", "cluster logs \(id) | wc -l")
            try await Task.sleep(for: .seconds(2))
            rows.append(try await agentMove(id, sizeMiB: size, method: "pre-copy", from: "node1", to: "node2", "cluster migrate --json --precopy \(id) \(destination.hostname)"))
            try await Task.sleep(for: .seconds(2))
            rows.append(try await agentMove(id, sizeMiB: size, method: "no pre-copy", from: "node2", to: "node1", "cluster migrate --json --no-precopy \(id) home"))
            try await Task.sleep(for: .seconds(2))
            rows.append(try await agentMove(id, sizeMiB: size, method: "post-copy", from: "node1", to: "node2", "cluster migrate --json --postcopy \(id) \(destination.hostname)"))
            _ = try await shell("node1", "cluster kill \(id)")

            rows.append(try await plainCRIU(sizeMiB: size, source: source, destination: destination))
            let plain = rows[rows.count - 1]
            progress("\(size) MiB plain criu: freeze \(plain.freezeSeconds) s, total \(plain.totalSeconds) s")
            if lazy {
                do {
                    let row = try await lazyCRIU(sizeMiB: size, source: source, destination: destination)
                    rows.append(row)
                    progress("\(size) MiB criu lazy: freeze \(row.freezeSeconds) s, down \(row.downtimeSeconds) s, total \(row.totalSeconds) s")
                } catch {
                    // CRIU's post-copy is a reference, not ours: its failure is reported, not fatal.
                    progress("\(size) MiB criu lazy failed: \(error)")
                }
            }
            return rows
        }

        /// CRIU's own post-copy, the issue's second reference: `criu dump --lazy-pages` freezes the
        /// job, writes every image but the lazy memory and serves that memory on a port; the
        /// other node fetches the images (HTTP, as ``plainCRIU(sizeMiB:source:destination:)``),
        /// starts `criu lazy-pages --page-server` and `criu restore --lazy-pages`, and the job
        /// runs there while its pages arrive on demand and in the background. *down* ends when
        /// the restore returns (the job runs), *total* when the lazy-pages daemon has every page.
        func lazyCRIU(sizeMiB size: Int, source: Control.Node, destination: Control.Node) async throws -> MigrationBenchmark.Row {
            let images = "/tmp/lazy-\(size)", output = "/tmp/lazy-\(size).out"
            let sourceHost = Self.host(of: source.address)
            func cleanUp() async {
                _ = try? await shell("node1", "pkill -f '[c]riu dump --tree [0-9]* --images-dir \(images) '; pkill -f '[b]usybox httpd -p \(sourceHost):\(Self.filePort)'; pkill -f '[u]nshare --pid --fork -- setsid python3 /tmp/job.py \(size)'; rm -rf \(images) /tmp/lazy-\(size).tar \(output)")
                _ = try? await shell("node2", "pkill -f '[c]riu lazy-pages --images-dir \(images) '; kill -9 $(cat \(images)/restored.pid) 2>/dev/null; rm -rf \(images) \(output)")
            }
            do {
                let row = try await lazyRun(sizeMiB: size, images: images, output: output, sourceHost: sourceHost)
                await cleanUp()
                return row
            } catch {
                await cleanUp()
                throw error
            }
        }

        func lazyRun(sizeMiB size: Int, images: String, output: String, sourceHost: String) async throws -> MigrationBenchmark.Row {
            let options = Self.criuOptions
            let check = (try? await shell("node2", "criu check --feature uffd-noncoop 2>&1; echo exit $?")) ?? "?"
            progress("\(size) MiB criu lazy: node2's `criu check --feature uffd-noncoop`: \(check.replacingOccurrences(of: "\n", with: " / "))")
            try await startBareJob(sizeMiB: size, images: images, output: output)
            // The dump stays alive serving pages; it listens once every other image is written.
            let frozen = try await shell("node1", """
                pid=\(Self.barePID(size)) && \
                date +%s.%N > \(images)/start && \
                setsid -f criu dump --tree $pid --images-dir \(images) --lazy-pages --address \(sourceHost) --port \(Self.pagePort) --log-file dump.log \(options) < /dev/null > /dev/null 2>&1; \
                for i in $(seq 1200); do ss -ltn | grep -q ':\(Self.pagePort) ' && break; sleep 0.05; done; \
                end=$(date +%s.%N) && echo "$(cat \(images)/start) $end" && \
                tar -cf /tmp/lazy-\(size).tar --exclude='*.log' --exclude=start \(images) \(output) && \
                busybox httpd -p \(sourceHost):\(Self.filePort) -h /tmp
                """)
            let restore = try await shell("node2", """
                for i in $(seq 50); do busybox wget -q -O /dev/null http://\(sourceHost):\(Self.filePort)/lazy-\(size).tar && break; sleep 0.1; done; \
                start=$(date +%s.%N) && \
                busybox wget -q -O - http://\(sourceHost):\(Self.filePort)/lazy-\(size).tar | tar -x -C / && \
                cd \(images) && \
                setsid -f criu lazy-pages --images-dir \(images) --page-server --address \(sourceHost) --port \(Self.pagePort) --log-file lazy.log -v2 < /dev/null > /dev/null 2>&1; \
                for i in $(seq 200); do test -S \(images)/lazy-pages.socket && break; sleep 0.05; done; \
                criu restore --images-dir \(images) --lazy-pages --restore-detached --pidfile \(images)/restored.pid --log-file restore.log \(options) && \
                running=$(date +%s.%N) && \
                for i in $(seq 6000); do pgrep -f '^criu lazy-pages' > /dev/null || break; sleep 0.1; done; \
                end=$(date +%s.%N) && echo "$start $running $end"
                """)
            let lines = try await shell("node2", "sleep 1; wc -l < \(output)")
            let freezeTimes = Self.times(frozen.split(separator: "\n").first)
            let restoreTimes = Self.times(restore.split(separator: "\n").last)
            guard freezeTimes.count == 2, restoreTimes.count == 3, Int(lines) ?? 0 > 0 else {
                let logs = (try? await shell("node2", "tail -n 5 \(images)/restore.log \(images)/lazy.log 2>&1")) ?? ""
                throw Error(.exec, "criu lazy run for \(size) MiB printed no times (dump: \(frozen), restore: \(restore), output lines: \(lines)); \(logs)")
            }
            let freeze = freezeTimes[1] - freezeTimes[0]
            let down = freeze + (restoreTimes[1] - restoreTimes[0])
            return .init(sizeMiB: size, method: "criu lazy", freezeSeconds: freeze, downtimeSeconds: down,
                         totalSeconds: freeze + (restoreTimes[2] - restoreTimes[0]), precopyRounds: 0, bytes: nil)
        }

        /// One move through the agents, asked on node1 (`command`), with both nodes' available
        /// memory sampled throughout: the peak extra memory each side used beyond what it had
        /// before (on the destination, less the job itself, which must arrive there).
        func agentMove(_ id: String, sizeMiB size: Int, method: String, from source: String, to destination: String, _ command: String) async throws -> MigrationBenchmark.Row {
            for node in ["node1", "node2"] {
                _ = try await shell(node, "rm -f /tmp/mem.log; setsid -f python3 /tmp/memory.py < /dev/null > /dev/null 2>&1; sleep 0.5")
            }
            let report = try await json(Control.MigrationReport.self, "node1", command)
            var extra: [String: Double] = [:]
            for node in ["node1", "node2"] {
                let samples = try await shell(node, "pkill -f 'python3 /tmp/[m]emory.py'; cat /tmp/mem.log").split(separator: "\n").compactMap { Double($0) }
                extra[node] = max(0, ((samples.first ?? 0) - (samples.min() ?? 0)) / 1024)
            }
            // A move whose method the agent chose is labelled with its choice.
            let label = report.choice == nil ? method : "\(method): \(report.postcopy == true ? "post-copy" : "pre-copy")"
            if let choice = report.choice { progress("\(size) MiB \(method): \(choice)") }
            let row = MigrationBenchmark.Row(
                sizeMiB: size, method: label, freezeSeconds: report.dumpSeconds, downtimeSeconds: report.frozenSeconds,
                totalSeconds: report.totalSeconds, precopyRounds: report.precopyRounds.count, bytes: report.bytes,
                megabytesPerSecond: (report.postcopy == true ? report.pullSeconds : report.sendingSeconds).flatMap { $0 > 0 ? Double(report.bytes) / 1e6 / $0 : nil },
                sourceExtraMiB: extra[source], destinationExtraMiB: extra[destination].map { max(0, $0 - Double(size)) })
            progress("\(size) MiB \(label): freeze \(report.dumpSeconds) s, down \(report.frozenSeconds) s, total \(report.totalSeconds) s, \(row.megabytesPerSecond.map { "\(Int($0)) MB/s" } ?? "? MB/s"), extra memory: source \(Int(row.sourceExtraMiB ?? 0)) MiB, destination \(Int(row.destinationExtraMiB ?? 0)) MiB beyond the job")
            return row
        }

        /// The write-heavy job moved with pre-copy (node1 → node2), back with post-copy, then to
        /// node2 again by plain `cluster migrate`, the agent choosing the method.
        func measureWriter(sizeMiB size: Int) async throws -> [MigrationBenchmark.Row] {
            let (_, destination) = try await nodes()
            let id = try await shell("node1", Self.asUser("cluster run -- python3 /tmp/writer.py \(size)"))
            try await waitForOutput("node1", "cluster logs \(id) | wc -l")
            try await Task.sleep(for: .seconds(3))
            let row = try await agentMove(id, sizeMiB: size, method: "write-heavy", from: "node1", to: "node2", "cluster migrate --json --precopy \(id) \(destination.hostname)")
            try await Task.sleep(for: .seconds(2))
            let back = try await agentMove(id, sizeMiB: size, method: "write-heavy post-copy", from: "node2", to: "node1", "cluster migrate --json --postcopy \(id) home")
            try await Task.sleep(for: .seconds(2))
            // As a user moves it, the method left to the agent (node1 measured the link above).
            let chosen = try await agentMove(id, sizeMiB: size, method: "write-heavy, agent's choice", from: "node1", to: "node2", "cluster migrate --json \(id) \(destination.hostname)")
            _ = try await shell("node2", "cluster kill \(id)")
            return [row, back, chosen]
        }

        /// The same job started the way the agent starts one (own PID namespace, session leader
        /// inside it, stdin /dev/null, output to a file), dumped with `criu dump` straight to a
        /// page server on the other node, the remaining images and the output file fetched by
        /// the other node over HTTP (busybox httpd and wget) on the same link, and restored there.
        func plainCRIU(sizeMiB size: Int, source: Control.Node, destination: Control.Node) async throws -> MigrationBenchmark.Row {
            let images = "/tmp/plain-\(size)", output = "/tmp/plain-\(size).out"
            let sourceHost = Self.host(of: source.address), destinationHost = Self.host(of: destination.address)
            let options = Self.criuOptions
            _ = try await shell("node2", "rm -rf \(images) && mkdir -p \(images) && criu page-server --images-dir \(images) --port \(Self.pagePort) --address \(destinationHost) --daemon --log-file page-server.log")
            try await startBareJob(sizeMiB: size, images: images, output: output)
            let dump = try await shell("node1", """
                pid=\(Self.barePID(size)) && \
                start=$(date +%s.%N) && \
                criu dump --tree $pid --images-dir \(images) --page-server --address \(destinationHost) --port \(Self.pagePort) --log-file dump.log \(options) && \
                end=$(date +%s.%N) && echo "$start $end" && \
                tar -cf /tmp/plain-\(size).tar --exclude='*.log' \(images) \(output) && \
                busybox httpd -p \(sourceHost):\(Self.filePort) -h /tmp
                """)
            let restore = try await shell("node2", """
                for i in $(seq 50); do busybox wget -q -O /dev/null http://\(sourceHost):\(Self.filePort)/plain-\(size).tar && break; sleep 0.1; done; \
                start=$(date +%s.%N) && \
                busybox wget -q -O - http://\(sourceHost):\(Self.filePort)/plain-\(size).tar | tar -x -C / && \
                copied=$(date +%s.%N) && \
                criu restore --images-dir \(images) --restore-detached --pidfile \(images)/restored.pid --log-file restore.log \(options) && \
                end=$(date +%s.%N) && echo "$start $copied $end"
                """)
            let lines = try await shell("node2", "sleep 1; wc -l < \(output)")
            _ = try? await shell("node1", "pkill -f '[b]usybox httpd -p \(sourceHost):\(Self.filePort)'; rm -rf \(images) /tmp/plain-\(size).tar \(output)")
            _ = try? await shell("node2", "kill -9 $(cat \(images)/restored.pid); rm -rf \(images) \(output)")
            let dumpTimes = Self.times(dump.split(separator: "\n").first)
            let restoreTimes = Self.times(restore.split(separator: "\n").last)
            guard dumpTimes.count == 2, restoreTimes.count == 3, Int(lines) ?? 0 > 0 else {
                throw Error(.exec, "plain criu run for \(size) MiB printed no times (dump: \(dump), restore: \(restore), output lines: \(lines))")
            }
            let freeze = dumpTimes[1] - dumpTimes[0]
            let copy = restoreTimes[1] - restoreTimes[0], restoring = restoreTimes[2] - restoreTimes[1]
            // The job ran nowhere from the dump's start to the restore's end; the gap between the
            // two guest commands (the benchmark's own round trip) is left out.
            let down = freeze + copy + restoring
            // The dump streams every page to the page server as it reads them: its time bounds the
            // page server's rate from below.
            return .init(sizeMiB: size, method: "plain criu", freezeSeconds: freeze, downtimeSeconds: down,
                         totalSeconds: down, precopyRounds: 0, bytes: nil,
                         megabytesPerSecond: freeze > 0 ? Double(size) * 1.048576 / freeze : nil)
        }

        /// The same job as the agent's, started on node1 the way the agent starts one (own PID
        /// namespace, session leader inside it, stdin /dev/null, output to a file), for plain
        /// CRIU to move; returns once it prints.
        func startBareJob(sizeMiB size: Int, images: String, output: String) async throws {
            _ = try await shell("node1", """
                rm -rf \(images) && mkdir -p \(images) && cd /tmp && \
                setsid -f unshare --pid --fork -- setsid python3 /tmp/job.py \(size) < /dev/null > \(output) 2>&1
                """)
            try await waitForOutput("node1", "wc -l < \(output)")
            try await Task.sleep(for: .seconds(2))
        }

        /// Shell: the pid of ``startBareJob(sizeMiB:images:output:)``'s namespace init.
        static func barePID(_ size: Int) -> String {
            "$(pgrep -P $(pgrep -xf 'unshare --pid --fork -- setsid python3 /tmp/job.py \(size)'))"
        }

        /// The `date +%s.%N` figures of one line a guest command printed.
        static func times(_ line: Substring?) -> [Double] {
            line.map { $0.split(separator: " ").compactMap { Double($0) } } ?? []
        }

        static func host(of address: String) -> String {
            guard let colon = address.lastIndex(of: ":") else { return address }
            return String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        }
    }
}

/// What ``VirtualCluster/migrationBenchmark(image:sizesMiB:memoryMiB:cpus:runDirectory:progress:)``
/// measured.
public struct MigrationBenchmark: Codable, Sendable {
    /// The issue's hard case, moved by the bench and by the cluster VM test: a thread writing a
    /// byte of a random page of its buffer (argv[1] MiB) all the time, as a numerical code
    /// updating its arrays does; the main thread prints a counter and its PID every 0.1 s.
    public static let writerProgram = """
        import os, sys, random, threading, time
        buffer = bytearray(int(sys.argv[1]) * 1024 * 1024)
        pages = len(buffer) // 4096
        def write():
            r = random.Random(1)
            i = 0
            while True:
                i += 1
                buffer[r.randrange(pages) * 4096 + i % 4096] = i & 255
        threading.Thread(target=write, daemon=True).start()
        counter = 0
        while True:
            counter += 1
            print(counter, os.getpid(), flush=True)
            time.sleep(0.1)
        """

    public struct Row: Codable, Sendable {
        public var sizeMiB: Int
        /// `pre-copy`, `no pre-copy` (both through the agent) or `plain criu`.
        public var method: String
        /// The final dump: CRIU's freeze of the job on the source.
        public var freezeSeconds: Double
        /// From the final dump's start until the job can run on the destination.
        public var downtimeSeconds: Double
        public var totalSeconds: Double
        public var precopyRounds: Int
        public var bytes: UInt64?
        /// Bytes sent over the time spent sending them (the agents' stream), or, for plain
        /// CRIU, the job's memory over the dump that streams it to the page server.
        public var megabytesPerSecond: Double?
        /// Peak memory the move took on the source beyond what it had before, MiB.
        public var sourceExtraMiB: Double?
        /// Likewise on the destination, less the job's own size.
        public var destinationExtraMiB: Double?

        public init(
            sizeMiB: Int, method: String, freezeSeconds: Double, downtimeSeconds: Double, totalSeconds: Double,
            precopyRounds: Int, bytes: UInt64?, megabytesPerSecond: Double? = nil, sourceExtraMiB: Double? = nil,
            destinationExtraMiB: Double? = nil
        ) {
            self.sizeMiB = sizeMiB
            self.method = method
            self.freezeSeconds = freezeSeconds
            self.downtimeSeconds = downtimeSeconds
            self.totalSeconds = totalSeconds
            self.precopyRounds = precopyRounds
            self.bytes = bytes
            self.megabytesPerSecond = megabytesPerSecond
            self.sourceExtraMiB = sourceExtraMiB
            self.destinationExtraMiB = destinationExtraMiB
        }
    }

    public var memoryMiB: Int
    public var cpus: Int
    public var rows: [Row]
}
