import ClusterControl
import ClusterWire
import Foundation
import LoopbackHarness
import TestSupport
import Testing

/// Job requests that cross nodes over the agents' secure streams: `run --node`, a cluster-wide
/// `ps`, and `logs` and `kill` of a job on another node, plus a stream from a node without the
/// cluster key, which is refused and counted.
@Suite(.serialized, .enabled(if: geteuid() == 0, "runs jobs as another user")) struct RemoteJobsTests {
    @Test func jobsOnAnotherNodeAreStartedListedReadAndKilledFromHere() async throws {
        let cluster = try LoopbackCluster(
            clusterd: try Products.path("clusterd"), count: 3,
            directory: NSTemporaryDirectory() + "/livebuild-loopback-remote-\(getpid())")
        defer { cluster.stopAll() }
        for index in 0..<3 { try cluster.start(index) }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, !(0..<3).allSatisfy({ cluster.nodes($0)?.filter { $0.state == .alive }.count == 3 }) {
            try await Task.sleep(for: .milliseconds(100))
        }
        let cli = try Products.path("cluster")
        // As an ordinary user (in group root, which the loopback control sockets admit): a
        // request from another node never runs as root (cluster.trust.minimumPeerUID).
        func here(_ arguments: [String], allowFailure: Bool = false) throws -> Tool.Output {
            try Tool.run(
                ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--groups=0", "--", cli, arguments[0], "--socket", cluster.socket(0)]
                    + arguments.dropFirst(),
                allowFailure: allowFailure)
        }
        let remote = cluster.hostname(1)

        let finished = try here(["run", "--node", remote, "--wait", "--", "sh", "-c", "echo from $(hostname -s 2>/dev/null || true) pid $$; exit 4"], allowFailure: true)
        #expect(finished.status == 4)
        #expect(finished.text.hasSuffix("pid 1\n"), "\(finished.text)")

        let id = try here(["run", "--node", remote, "--", "sh", "-c", "echo started; exec sleep 600"]).text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("000002-"), "the job id names the node that runs it: \(id)")
        try await Task.sleep(for: .milliseconds(500))
        let jobs = try JSONDecoder().decode([Control.Job].self, from: try here(["ps", "--json"]).stdout)
        let job = try #require(jobs.first { $0.id == id }, "cluster-wide ps lists the remote job: \(jobs.map(\.id))")
        #expect(job.state == .running && job.currentNode == remote && job.homeNode == remote)
        let local = try JSONDecoder().decode([Control.Job].self, from: try here(["ps", "--json", "--local"]).stdout)
        #expect(!local.contains { $0.id == id })
        #expect(try here(["logs", id]).text == "started\n")
        _ = try here(["kill", id])
        try await Task.sleep(for: .milliseconds(500))
        let after = try JSONDecoder().decode([Control.Job].self, from: try here(["ps", "--json"]).stdout)
        #expect(after.first { $0.id == id }?.state == .killed)

        let unknown = try here(["run", "--node", "no-such-node", "--", "true"], allowFailure: true)
        #expect(unknown.status == 1 && unknown.stderr.contains("no node no-such-node"), "\(unknown.stderr)")
    }

    @Test func aStreamWithoutTheClusterKeyIsRefusedAndCounted() async throws {
        let cluster = try LoopbackCluster(
            clusterd: try Products.path("clusterd"), count: 1,
            directory: NSTemporaryDirectory() + "/livebuild-loopback-intruder-stream-\(getpid())")
        defer { cluster.stopAll() }
        try cluster.start(0)
        try cluster.waitUntilAnswering(0)

        // An intruder holding another key: its hello is answered, its finish cannot be right.
        let intruder = Wire.Stream.Client(keys: try Wire.Keys(clusterKey: Array(repeating: 9, count: 32)), me: Wire.NodeID(99))
        let socket = try TCPConnection(host: "127.0.0.1", port: cluster.port(0))
        try socket.write(intruder.hello)
        let serverHello = try socket.read(Wire.Stream.serverHelloSize)
        #expect(throws: Wire.Stream.Failure.authenticationFailed) { try intruder.receive(serverHello: serverHello) }
        try socket.write(Array(repeating: 0, count: Wire.Stream.finishSize))
        #expect(try socket.read(1).isEmpty, "the agent closes the connection")

        let status = try JSONDecoder().decode(
            Control.Status.self,
            from: try Tool.run([try Products.path("cluster"), "status", "--json", "--socket", cluster.socket(0)]).stdout)
        #expect(status.counters.streamsRejected["authenticationFailed"] == 1)
    }
}

/// A blocking TCP connection to a loopback port (the test speaks the stream protocol by hand).
final class TCPConnection {
    let descriptor: Int32

    init(host: String, port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    deinit { close(descriptor) }

    func write(_ bytes: [UInt8]) throws {
        guard bytes.withUnsafeBytes({ Glibc.write(descriptor, $0.baseAddress, $0.count) }) == bytes.count else {
            throw POSIXError(.EIO)
        }
    }

    /// Up to `count` bytes; fewer (or none) when the peer closed.
    func read(_ count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: count)
        while result.count < count {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, count - result.count) }
            if got <= 0 { break }
            result += buffer[0..<got]
        }
        return result
    }
}
