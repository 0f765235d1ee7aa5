import ClusterControl
import Foundation
import VirtualCluster

extension VirtualCluster {
    /// Power-on to listed in `cluster nodes`, ISO boot beside PXE boot, and several diskless
    /// nodes booting at once from one head, in QEMU.
    ///
    /// One cluster per count in `counts`: node1 and node2 boot the ISO at the same moment
    /// (node1 becomes the head), then `count` diskless nodes (SeaBIOS and OVMF in turn) power on
    /// together and boot from the head. Pollers on the host ask node1's `cluster nodes` every
    /// second (a node is listed at the answer's time less its `stateChangedSecondsAgo`) and read
    /// the diskless nodes' console logs every half second, so every figure is host time from a
    /// node's QEMU start. A download ends when the live init starts checking the sha256. The head's bytes sent (its interface counter) cover TFTP, HTTP, NFS and
    /// gossip; the squashfs rate is the diskless nodes' squashfs bytes over the window from the
    /// first download's start to the last one's end, as the consoles show them.
    public static func pxeBenchmark(
        image: String, counts: [Int], memoryMiB: Int, powerOnInterval: Duration = .zero, timeout: Duration = .seconds(900),
        runDirectory: String, progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> PxeBenchmark {
        var report = PxeBenchmark(memoryMiB: memoryMiB, powerOnIntervalSeconds: Double(powerOnInterval.components.seconds), rows: [], failures: [], guestPanics: 0)
        for count in counts {
            // A guest kernel panicking under TCG (seen now and then, Docs/benchmarks.md) spoils
            // that run's figures, not the method: counted, and the run repeated once. Any other
            // failure is reported for that count, and the next count still runs.
            do {
                do {
                    report.rows.append(try await pxeRun(image: image, diskless: count, memoryMiB: memoryMiB, interval: powerOnInterval, timeout: timeout, runDirectory: runDirectory, progress: progress))
                } catch let error as VirtualCluster.Error where error.message.contains("kernel panicked") {
                    report.guestPanics += 1
                    progress("\(count) diskless node(s): \(error.message); running it again")
                    report.rows.append(try await pxeRun(image: image, diskless: count, memoryMiB: memoryMiB, interval: powerOnInterval, timeout: timeout, runDirectory: runDirectory, progress: progress))
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let reason = (error as? VirtualCluster.Error)?.description ?? String(describing: error)
                report.failures.append(.init(disklessNodes: count, reason: String(reason.prefix(400))))
            }
        }
        guard !report.rows.isEmpty else {
            throw Error(.boot, "no network-boot run succeeded: " + report.failures.map { "\($0.disklessNodes) node(s): \($0.reason)" }.joined(separator: "; "))
        }
        return report
    }

    private static func pxeRun(
        image: String, diskless: Int, memoryMiB: Int, interval: Duration, timeout: Duration, runDirectory: String,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> PxeBenchmark.Row {
        _ = try await down(runDirectory: runDirectory)
        let observer = PxeObserver(runDirectory: runDirectory)
        let poller = Task { await observer.poll() }
        defer { poller.cancel() }
        let headBytes = LockedBox<UInt64?>(nil)
        progress("\(diskless) diskless node(s): booting node1 (the head) and node2 from the ISO")
        let cluster: Controller
        var configuration = Configuration(
            runDirectory: runDirectory,
            nodes: [.init(image: image), .init(image: image)] + (0..<diskless).map { .network(uefi: $0 % 2 == 1) },
            memoryMiB: memoryMiB, cpus: 1)
        configuration.networkBootInterval = interval
        do {
            cluster = try await up(
                configuration,
                timeout: timeout,
                beforeNetworkBoot: { cluster in
                    try await makeHead(cluster, node: "node1")
                    headBytes.value = try await Self.bytesSent(cluster, "node1")
                    progress("head serving; powering on \(diskless) diskless node(s)")
                },
                onEvent: { event in
                    switch event {
                    case .nodeStarted(let node): observer.started(node)
                    case .powerCycled(let name, let reason, _):
                        observer.powerCycled(name)
                        progress("\(name): firmware gave up (\(reason)); power-cycled it")
                    default: break
                    }
                })
        } catch {
            poller.cancel()
            throw error
        }
        do {
            let everyone = cluster.nodes
            let deadline = ContinuousClock.now + timeout
            // Network boots carry no cluster key: the head admits them as they ask (part of the
            // time to listed, as it is for an operator who admits them on sight).
            _ = try await admit(cluster, head: "node1", nodes: everyone.filter { $0.networkBoot == true }, deadline: timeout)
            while !everyone.allSatisfy({ observer.listed(hostname(mac: $0.mac)) != nil }) {
                guard ContinuousClock.now < deadline else {
                    let missing = everyone.filter { observer.listed(hostname(mac: $0.mac)) == nil }.map(\.name)
                    throw Error(.boot, "node1 did not list \(missing.joined(separator: ", ")) alive within \(timeout.components.seconds) s of the diskless nodes' start; raise --timeout on a loaded or small host")
                }
                try await Task.sleep(for: .seconds(1))
            }
            poller.cancel()
            let sent = try await Self.bytesSent(cluster, "node1") - (headBytes.value ?? 0)
            let row = try observer.row(nodes: everyone, headBytesSent: sent)
            progress("\(diskless) diskless node(s): all listed \(String(format: "%.1f", row.allListedSeconds)) s after power-on, squashfs served at \(String(format: "%.1f", row.squashfsBytesPerSecond / 1e6)) MB/s")
            _ = try await down(runDirectory: runDirectory)
            return row
        } catch {
            progress("failed: \(error)\n\(consoleTails(cluster.nodes, lines: 20))")
            _ = try? await down(runDirectory: runDirectory)
            throw error
        }
    }

    /// Bytes sent by `node`'s interfaces other than loopback.
    static func bytesSent(_ cluster: Controller, _ node: String) async throws -> UInt64 {
        let result = try await cluster.exec(node, command: "cat $(ls -d /sys/class/net/*/statistics/tx_bytes | grep -v /lo/)", timeout: .seconds(60))
        return String(decoding: result.standardOutput, as: UTF8.self).split(separator: "\n").compactMap { UInt64($0) }.reduce(0, +)
    }

    /// What the poller saw, in host time.
    final class PxeObserver: @unchecked Sendable {
        let runDirectory: String
        private let lock = NSLock()
        private var starts: [String: (node: Node, at: ContinuousClock.Instant)] = [:]
        private var listedAt: [String: ContinuousClock.Instant] = [:]
        private var fetchStart: [String: ContinuousClock.Instant] = [:]
        private var fetchEnd: [String: ContinuousClock.Instant] = [:]
        private var fetchBytes: [String: UInt64] = [:]

        init(runDirectory: String) { self.runDirectory = runDirectory }

        private var cycles = 0

        /// A power cycle keeps the node's first power-on: its figures include the failed attempt.
        func started(_ node: Node) {
            lock.withLock { starts[node.name] = (node, starts[node.name]?.at ?? .now) }
        }

        func powerCycled(_ name: String) {
            lock.withLock {
                cycles += 1
                // The new attempt downloads again: its console is read afresh.
                fetchStart[name] = nil
                fetchEnd[name] = nil
            }
        }

        func listed(_ hostname: String) -> ContinuousClock.Instant? {
            lock.withLock { listedAt[hostname] }
        }

        /// node1's `cluster nodes` every second, and the diskless consoles' download lines every
        /// half second, until cancelled.
        func poll() async {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.pollMembers() }
                group.addTask { await self.pollConsoles() }
            }
        }

        /// When node1 first listed each node alive: the answer's time less the member's
        /// `stateChangedSecondsAgo`, so a slow guest-agent round trip does not move it.
        private func pollMembers() async {
            while !Task.isCancelled {
                if let controller = try? Controller.open(runDirectory: runDirectory),
                   controller.nodes.first?.pid != nil,
                   let result = try? await controller.exec("node1", command: "cluster nodes --json", timeout: .seconds(10)),
                   let nodes = try? JSONDecoder().decode([Control.Node].self, from: Data(result.standardOutput)) {
                    let answered = ContinuousClock.now
                    lock.withLock {
                        for node in nodes where node.state == .alive && listedAt[node.hostname] == nil {
                            listedAt[node.hostname] = answered - .milliseconds(Int(node.stateChangedSecondsAgo * 1000))
                        }
                    }
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }

        /// When each diskless node's live init started and finished its download.
        private func pollConsoles() async {
            while !Task.isCancelled {
                let now = ContinuousClock.now
                // A node whose download has been timed is not read again (a power cycle resets it).
                let nodes = lock.withLock { starts.values.map(\.node).filter { fetchEnd[$0.name] == nil } }
                for node in nodes where node.networkBoot == true {
                    // Lossy: firmware writes bytes that are not UTF-8 to the console.
                    guard let data = FileManager.default.contents(atPath: node.consoleLog) else { continue }
                    let console = String(decoding: data, as: UTF8.self)
                    lock.withLock {
                        // Serial consoles end lines with CR LF, one Character in Swift: split on
                        // isNewline, not on "\n".
                        if fetchStart[node.name] == nil, let line = console.split(whereSeparator: \.isNewline).first(where: { $0.contains("fetching http") }) {
                            fetchStart[node.name] = now
                            // "... fetching URL (SIZE bytes)"
                            if let open = line.lastIndex(of: "("), let size = UInt64(line[line.index(after: open)...].prefix { $0.isNumber }) {
                                fetchBytes[node.name] = size
                            }
                        }
                        // The live init says so as soon as the download is complete.
                        if fetchEnd[node.name] == nil, console.contains("verifying the squashfs sha256") {
                            fetchEnd[node.name] = now
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }

        func row(nodes: [Node], headBytesSent: UInt64) throws -> PxeBenchmark.Row {
            try lock.withLock {
                func listedAfterStart(_ node: Node) throws -> Double {
                    guard let start = starts[node.name]?.at, let listed = listedAt[VirtualCluster.hostname(mac: node.mac)] else {
                        throw Error(.boot, "\(node.name) has no start or listed time")
                    }
                    return (listed - start).seconds
                }
                let iso = nodes.filter { $0.networkBoot != true }
                let network = nodes.filter { $0.networkBoot == true }
                let networkStart = network.compactMap { starts[$0.name]?.at }.min() ?? .now
                let lastListed = network.compactMap { listedAt[VirtualCluster.hostname(mac: $0.mac)] }.max() ?? .now
                let firstFetch = network.compactMap { fetchStart[$0.name] }.min()
                let lastFetch = network.compactMap { fetchEnd[$0.name] }.max()
                let window = firstFetch.flatMap { first in lastFetch.map { ($0 - first).seconds } } ?? 0
                let squashfs = network.compactMap { fetchBytes[$0.name] }.reduce(0, +)
                return PxeBenchmark.Row(
                    disklessNodes: network.count,
                    isoListedSeconds: try iso.map(listedAfterStart),
                    pxeListedSeconds: try network.map(listedAfterStart),
                    allListedSeconds: (lastListed - networkStart).seconds,
                    squashfsBytes: squashfs,
                    downloadWindowSeconds: window,
                    squashfsBytesPerSecond: window > 0 ? Double(squashfs) / window : 0,
                    headBytesSent: headBytesSent,
                    powerCycles: cycles)
            }
        }
    }
}

/// ``VirtualCluster/pxeBenchmark(image:counts:memoryMiB:powerOnInterval:timeout:runDirectory:progress:)``'s figures,
/// seconds from each node's QEMU start.
public struct PxeBenchmark: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var disklessNodes: Int
        /// node1 (the head) and node2, booted from the ISO at the same moment.
        public var isoListedSeconds: [Double]
        /// Each diskless node, from its power-on until node1 lists it alive.
        public var pxeListedSeconds: [Double]
        /// From the diskless nodes' power-on until the last of them is listed.
        public var allListedSeconds: Double
        public var squashfsBytes: UInt64
        public var downloadWindowSeconds: Double
        public var squashfsBytesPerSecond: Double
        /// Everything the head sent while the diskless nodes booted (TFTP, HTTP, NFS, gossip).
        public var headBytesSent: UInt64
        /// Diskless nodes power-cycled because their firmware gave up (their figures include it).
        public var powerCycles: Int
    }

    public var memoryMiB: Int
    /// Seconds between one diskless node's power-on and the next.
    public var powerOnIntervalSeconds: Double
    public var rows: [Row]
    /// A count whose run failed (the others still ran).
    public struct Failure: Codable, Sendable {
        public var disklessNodes: Int
        public var reason: String
    }
    public var failures: [Failure]
    /// Runs repeated because a guest kernel panicked.
    public var guestPanics: Int
}
