import ClusterControl
import Foundation
import VirtualCluster

extension VirtualCluster {
    /// Freeze and total time of moving jobs of several sizes between two QEMU nodes booted from
    /// `image`: with pre-copy (`cluster migrate`), without (`--no-precopy`), and beside plain CRIU
    /// (`criu dump` streaming pages to a `criu page-server` on the other node, the rest of the
    /// images copied over the same link, then `criu restore`) on a fresh copy of the same job.
    ///
    /// The job holds `size` MiB of written pages and prints a counter every 0.1 s, writing one
    /// page of its buffer each time. Times are taken inside the guests (the agent's report, and
    /// `date` around each criu run), so guest-agent round trips do not count.
    public static func migrationBenchmark(
        image: String, sizesMiB: [Int], memoryMiB: Int, cpus: Int, runDirectory: String,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> MigrationBenchmark {
        _ = try await down(runDirectory: runDirectory)
        let cluster = try await up(
            .init(runDirectory: runDirectory, image: image, count: 2, memoryMiB: memoryMiB, cpus: cpus), timeout: .seconds(600))
        do {
            var report = MigrationBenchmark(memoryMiB: memoryMiB, cpus: cpus, rows: [])
            let bench = MigrationBench(cluster: cluster, progress: progress)
            try await bench.prepare()
            for size in sizesMiB {
                report.rows += try await bench.measure(sizeMiB: size)
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
            let encoded = Data(Self.job.utf8).base64EncodedString()
            for node in ["node1", "node2"] {
                _ = try await shell(node, "cluster balance off && echo \(encoded) | base64 -d > /tmp/job.py")
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
            let id = try await shell("node1", "cd /tmp && cluster run -- python3 /tmp/job.py \(size)")
            try await waitForOutput("node1", "cluster logs \(id) | wc -l")
            try await Task.sleep(for: .seconds(2))
            let there = try await json(Control.MigrationReport.self, "node1", "cluster migrate --json \(id) \(destination.hostname)")
            rows.append(.init(sizeMiB: size, method: "pre-copy", freezeSeconds: there.dumpSeconds,
                              downtimeSeconds: there.frozenSeconds, totalSeconds: there.totalSeconds,
                              precopyRounds: there.precopyRounds.count, bytes: there.bytes))
            progress("\(size) MiB with pre-copy: freeze \(there.dumpSeconds) s, down \(there.frozenSeconds) s, total \(there.totalSeconds) s")
            try await Task.sleep(for: .seconds(2))
            let back = try await json(Control.MigrationReport.self, "node1", "cluster migrate --json --no-precopy \(id) home")
            rows.append(.init(sizeMiB: size, method: "no pre-copy", freezeSeconds: back.dumpSeconds,
                              downtimeSeconds: back.frozenSeconds, totalSeconds: back.totalSeconds,
                              precopyRounds: 0, bytes: back.bytes))
            progress("\(size) MiB without pre-copy: freeze \(back.dumpSeconds) s, down \(back.frozenSeconds) s, total \(back.totalSeconds) s")
            _ = try await shell("node1", "cluster kill \(id)")

            rows.append(try await plainCRIU(sizeMiB: size, source: source, destination: destination))
            let plain = rows[rows.count - 1]
            progress("\(size) MiB plain criu: freeze \(plain.freezeSeconds) s, total \(plain.totalSeconds) s")
            return rows
        }

        /// The same job started the way the agent starts one (own PID namespace, session leader
        /// inside it, stdin /dev/null, output to a file), dumped with `criu dump` straight to a
        /// page server on the other node, the remaining images and the output file fetched by
        /// the other node over HTTP (busybox httpd and wget) on the same link, and restored there.
        func plainCRIU(sizeMiB size: Int, source: Control.Node, destination: Control.Node) async throws -> MigrationBenchmark.Row {
            let images = "/tmp/plain-\(size)", output = "/tmp/plain-\(size).out"
            let sourceHost = Self.host(of: source.address), destinationHost = Self.host(of: destination.address)
            let options = "--file-locks --link-remap -v2"
            _ = try await shell("node2", "rm -rf \(images) && mkdir -p \(images) && criu page-server --images-dir \(images) --port \(Self.pagePort) --address \(destinationHost) --daemon --log-file page-server.log")
            _ = try await shell("node1", """
                rm -rf \(images) && mkdir -p \(images) && cd /tmp && \
                setsid -f unshare --pid --fork -- setsid python3 /tmp/job.py \(size) < /dev/null > \(output) 2>&1
                """)
            try await waitForOutput("node1", "wc -l < \(output)")
            try await Task.sleep(for: .seconds(2))
            let dump = try await shell("node1", """
                pid=$(pgrep -P $(pgrep -xf 'unshare --pid --fork -- setsid python3 /tmp/job.py \(size)')) && \
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
            _ = try? await shell("node1", "pkill -f 'busybox httpd -p \(sourceHost):\(Self.filePort)'; rm -rf \(images) /tmp/plain-\(size).tar \(output)")
            _ = try? await shell("node2", "kill -9 $(cat \(images)/restored.pid); rm -rf \(images) \(output)")
            let dumpTimes = dump.split(separator: "\n").first.map { $0.split(separator: " ").compactMap { Double($0) } } ?? []
            let restoreTimes = restore.split(separator: "\n").last.map { $0.split(separator: " ").compactMap { Double($0) } } ?? []
            guard dumpTimes.count == 2, restoreTimes.count == 3, Int(lines) ?? 0 > 0 else {
                throw Error(.exec, "plain criu run for \(size) MiB printed no times (dump: \(dump), restore: \(restore), output lines: \(lines))")
            }
            let freeze = dumpTimes[1] - dumpTimes[0]
            let copy = restoreTimes[1] - restoreTimes[0], restoring = restoreTimes[2] - restoreTimes[1]
            // The job ran nowhere from the dump's start to the restore's end; the gap between the
            // two guest commands (the benchmark's own round trip) is left out.
            let down = freeze + copy + restoring
            return .init(sizeMiB: size, method: "plain criu", freezeSeconds: freeze, downtimeSeconds: down,
                         totalSeconds: down, precopyRounds: 0, bytes: nil)
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
    }

    public var memoryMiB: Int
    public var cpus: Int
    public var rows: [Row]
}
