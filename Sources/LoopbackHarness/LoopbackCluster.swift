import ClusterControl
import ClusterWire
import Processes
import Foundation

/// Real `clusterd` processes on 127.0.0.1, one UDP port each, joined through a static seed list
/// (multicast off): the loopback tier of the membership tests and the agent benchmarks.
///
/// Every agent gets node id `index + 1`, host name `agentNNN`, its own control socket and log
/// file in `directory`, and the same freshly generated cluster key.
public final class LoopbackCluster: @unchecked Sendable {
    public let clusterd: String
    public let count: Int
    public let basePort: UInt16
    public let directory: String
    /// How many of the first agents every agent lists as peers.
    public let seeds: Int
    private var processes: [Int: Processes.Child] = [:]
    private let lock = NSLock()

    /// Prepares (but does not start) `count` agents; writes the profile and key to `directory`.
    public init(clusterd: String, count: Int, directory: String, basePort: UInt16? = nil, seeds: Int = 3,
                timing: [String: Int] = [:], trust: [String: Int] = [:]) throws {
        self.clusterd = clusterd
        self.count = count
        self.directory = directory
        self.seeds = max(1, min(seeds, count))
        self.basePort = basePort ?? Self.freePorts(count)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var cluster: [String: Any] = ["name": "loopback"]
        if !timing.isEmpty { cluster["timing"] = timing }
        if !trust.isEmpty { cluster["trust"] = trust }
        let profile = try JSONSerialization.data(withJSONObject: ["cluster": cluster], options: [.sortedKeys])
        try profile.write(to: URL(fileURLWithPath: profilePath))
        if !FileManager.default.fileExists(atPath: keyPath) {
            let key = Data(Wire.Keys.KeyFile.generate().utf8)
            guard FileManager.default.createFile(atPath: keyPath, contents: key, attributes: [.posixPermissions: 0o600]) else {
                throw Failure(description: "cannot write the loopback cluster key \(keyPath)")
            }
        }
    }

    deinit {
        stopAll()
    }

    /// Why the cluster could not be prepared; `description` is a sentence for the user.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// A base port whose `count` ports are free for both UDP and TCP now. Drawn below Linux's
    /// ephemeral range (32768 and up), where an outgoing connection of any other test may hold
    /// the port an agent is about to bind (CI once lost an agent that way, or so it seemed: it
    /// never answered). Parallel suites may still race for one; `waitUntilAnswering` then
    /// reports the bind failure from the agent's log.
    static func freePorts(_ count: Int) -> UInt16 {
        let range = 20_000...(32_700 - UInt16(count))
        for _ in 0..<64 {
            let base = UInt16.random(in: range)
            if (0..<count).allSatisfy({ isFree(base + UInt16($0)) }) { return base }
        }
        return UInt16.random(in: range)
    }

    private static func isFree(_ port: UInt16) -> Bool {
        [SOCK_STREAM, SOCK_DGRAM].allSatisfy { type in
            let fd = Glibc.socket(AF_INET, Int32(type.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
        }
    }

    /// Waits until agent `index` answers on its control socket; throws, with the tail of its
    /// log, if it exits first or does not answer `within`.
    public func waitUntilAnswering(_ index: Int, within limit: Duration = .seconds(60)) throws {
        let deadline = ContinuousClock.now + limit
        while nodes(index) == nil {
            guard isRunning(index) else {
                throw Failure(description: "agent \(index + 1) exited before it answered on \(socket(index)); its log:\n\(logTail(index))")
            }
            guard ContinuousClock.now < deadline else {
                throw Failure(description: "agent \(index + 1) did not answer on \(socket(index)) within \(limit); its log:\n\(logTail(index))")
            }
            usleep(100_000)
        }
    }

    var profilePath: String { directory + "/profile.json" }
    public var keyPath: String { directory + "/cluster.key" }

    public func port(_ index: Int) -> UInt16 { basePort + UInt16(index) }
    public func socket(_ index: Int) -> String { directory + "/agent\(index).sock" }
    public func log(_ index: Int) -> String { directory + "/agent\(index).log" }
    public func jobsDirectory(_ index: Int) -> String { directory + "/jobs\(index)" }
    public func hostname(_ index: Int) -> String {
        let number = String(index + 1)
        return "agent" + String(repeating: "0", count: max(0, 3 - number.count)) + number
    }
    /// The node id agent `index` runs with, as `cluster nodes` prints it.
    public func nodeID(_ index: Int) -> String {
        Wire.NodeID(UInt64(index + 1)).description
    }

    /// Starts agent `index` (again, after a kill).
    /// CPU time (user + system, in clock ticks) agent `index` has used so far, from
    /// /proc/PID/stat; nil when it is not running.
    public func cpuTicks(_ index: Int) -> Int? {
        guard let pid = lock.withLock({ processes[index]?.pid }),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    /// Starts agent `index`. `keyFile` (default: the shared key) may name a file that does not
    /// exist, for an agent that must be admitted; `kernelCommandLine` stands in for
    /// /proc/cmdline (`cluster.role=head`).
    public func start(_ index: Int, keyFile: String? = nil, kernelCommandLine: String = "", extraArguments: [String] = []) throws {
        let peers = (0..<seeds).map { "127.0.0.1:\(port($0))" }.joined(separator: ",")
        let arguments = [
            clusterd, "run", "--profile", profilePath, "--key-file", keyFile ?? keyPath, "--kernel-command-line", kernelCommandLine,
            "--node-id", String(index + 1, radix: 16), "--hostname", hostname(index),
            "--listen", "127.0.0.1:\(port(index))", "--peers", peers, "--no-multicast",
            "--control-socket", socket(index), "--control-group", "root",
            "--jobs-directory", jobsDirectory(index),
        ] + extraArguments
        _ = FileManager.default.createFile(atPath: log(index), contents: nil)
        try? FileManager.default.removeItem(atPath: socket(index))
        // stdout and stderr appended to the agent's log; the environment the tests run in.
        let process = try Processes.Child(
            arguments, descriptors: [.open("/dev/null", flags: O_RDONLY), .open(log(index), flags: O_WRONLY | O_APPEND), .copy(of: 1)],
            environment: Processes.inheritedEnvironment())
        lock.withLock { processes[index] = process }
    }

    /// Whether agent `index` was started and its process is still running (an agent that
    /// trapped or exited is not).
    public func isRunning(_ index: Int) -> Bool {
        lock.withLock { processes[index]?.isRunning ?? false }
    }

    /// The cluster key every agent runs with, for tests that forge authentic datagrams.
    public func clusterKey() throws -> [UInt8] {
        guard let bytes = Wire.Keys.KeyFile.parse(try String(contentsOfFile: keyPath, encoding: .utf8)) else {
            throw Failure(description: "the loopback cluster key \(keyPath) is not 64 hex digits")
        }
        return bytes
    }

    /// SIGKILL, like a crash or a pulled power cord: no goodbye to the peers.
    public func kill(_ index: Int) {
        guard let process = lock.withLock({ processes.removeValue(forKey: index) }) else { return }
        process.signal(SIGKILL)
        process.waitUntilExit()
    }

    public func stopAll() {
        let all = lock.withLock { () -> [Processes.Child] in
            defer { processes = [:] }
            return Array(processes.values)
        }
        for process in all { process.signal(SIGTERM) }
        for process in all { process.waitUntilExit() }
    }

    /// Agent `index`'s view, or nil while its control socket is not up yet.
    public func nodes(_ index: Int) -> [Control.Node]? {
        guard case .nodes(let nodes) = try? Control.Client.send(.nodes, socketPath: socket(index)) else { return nil }
        return nodes
    }

    public func status(_ index: Int) -> Control.Status? {
        guard case .status(let status) = try? Control.Client.send(.status, socketPath: socket(index)) else { return nil }
        return status
    }

    /// The state agent `observer` reports for agent `subject` (nil: not listed).
    public func state(of subject: Int, seenBy observer: Int) -> Control.Node.State? {
        nodes(observer)?.first { $0.id == nodeID(subject) }?.state
    }

    /// The last lines of agent `index`'s log, for failure messages.
    public func logTail(_ index: Int, lines: Int = 15) -> String {
        let text = (try? String(contentsOfFile: log(index), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
