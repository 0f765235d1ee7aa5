import ClusterControl
import Foundation
import LoopbackHarness
import TestSupport
import Testing

/// Admission with real agents on 127.0.0.1 (Docs/security.md, "Admission"): a node that starts
/// without the cluster key asks the head, waits, and joins once `cluster admit` seals the key to
/// it; a denied node never gets it and is never listed; the admission port takes garbage and
/// floods without harm.
@Suite(.serialized) struct AdmissionTests {
    @Test func aNodeWithoutTheKeyJoinsOnlyOnceTheHeadAdmitsIt() async throws {
        let directory = NSTemporaryDirectory() + "/livebuild-loopback-admission-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // Agents 0 (the head), 2 and 3: the head's admission port is its port + 1, agent 1's.
        let cluster = try LoopbackCluster(clusterd: try Products.path("clusterd"), count: 4, directory: directory, seeds: 1)
        defer { cluster.stopAll() }
        let cli = try Products.path("cluster")
        func head(_ arguments: [String], allowFailure: Bool = false) throws -> Tool.Output {
            try Tool.run([cli, arguments[0], "--socket", cluster.socket(0)] + arguments.dropFirst(), allowFailure: allowFailure)
        }
        func pending() throws -> [Control.Admission] {
            try JSONDecoder().decode([Control.Admission].self, from: try head(["pending", "--json"]).stdout)
        }
        func alive() -> Set<String> {
            Set((cluster.nodes(0) ?? []).filter { $0.state == .alive }.map(\.hostname))
        }

        try cluster.start(0, kernelCommandLine: "cluster.role=head")
        // Startup only (not what this test measures): under CI's parallel tiers it once took
        // longer than 20 s (session 20).
        try await Self.wait("the head answers", deadline: .seconds(60)) { cluster.nodes(0) != nil }
        let admissionServer = "127.0.0.1:\(cluster.port(0) + 1)"
        let keys = [2: directory + "/agent2.key", 3: directory + "/agent3.key"]
        for index in [2, 3] {
            try cluster.start(index, keyFile: keys[index], extraArguments: ["--admission-server", admissionServer])
        }
        try await Self.wait("both keyless nodes wait in `cluster pending`") {
            ((try? pending()) ?? []).filter { $0.state == .waiting }.count == 2
        }
        let waiting = try pending()
        #expect(Set(waiting.map(\.hostname)) == [cluster.hostname(2), cluster.hostname(3)])
        #expect(alive() == [cluster.hostname(0)], "no waiting node is a member")
        #expect(keys.values.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        let fingerprint = try #require(waiting.first { $0.hostname == cluster.hostname(2) }?.fingerprint)
        #expect(try String(contentsOfFile: cluster.log(2), encoding: .utf8).contains(fingerprint), "the node prints the fingerprint to compare")

        // Only root admits; a fingerprint prefix names the node.
        let asUser = try Tool.run(["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--groups=0", "--", cli, "admit", "all", "--socket", cluster.socket(0)], allowFailure: true)
        #expect(asUser.status != 0 && asUser.stderr.contains("only root"), "\(asUser.stderr)")
        let admitted = try head(["admit", String(fingerprint.prefix(9))])
        #expect(admitted.text.contains(cluster.hostname(2)) && admitted.text.contains("admitted"), "\(admitted.text)")
        try await Self.wait("the admitted node is alive on the head", deadline: .seconds(30)) { alive().contains(cluster.hostname(2)) }
        var info = stat()
        #expect(stat(keys[2]!, &info) == 0 && info.st_mode & 0o777 == 0o600, "the key file is 0600")
        #expect(Self.keyDigits(keys[2]!) == Self.keyDigits(cluster.keyPath), "the node holds the cluster key")

        _ = try head(["deny", cluster.hostname(3)])
        try await Task.sleep(for: .seconds(5))
        #expect(!alive().contains(cluster.hostname(3)), "a denied node is never listed")
        #expect(!FileManager.default.fileExists(atPath: keys[3]!))
        #expect(try pending().first { $0.hostname == cluster.hostname(3) }?.state == .denied)

        // The admission port is open to anyone: garbage and a flood of requests.
        for line in ["", "{", String(repeating: "A", count: 20_000), #"{"node":"../x","hostname":"h","macs":[],"publicKey":"AAAA"}"#] {
            _ = try? Self.exchange(line + "\n", port: cluster.port(0) + 1)
        }
        for index in 0..<300 {
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            _ = try? Self.exchange(#"{"node":"\#(String(index, radix: 16))","hostname":"flood\#(index)","macs":[],"publicKey":"\#(key)"}"# + "\n", port: cluster.port(0) + 1)
        }
        let book = try pending()
        #expect(book.count <= 256, "the book stays bounded: \(book.count)")
        #expect(book.filter { $0.hostname.hasPrefix("flood") }.count <= 4, "at most 4 entries from one address")
        #expect(cluster.status(0)?.counters.streamsRejected["admission-malformed"] ?? 0 >= 3)
        #expect(alive().contains(cluster.hostname(2)), "the admitted node stays")
    }

    static func wait(_ what: String, deadline: Duration = .seconds(20), _ condition: () throws -> Bool) async throws {
        let end = ContinuousClock.now + deadline
        while ContinuousClock.now < end {
            if (try? condition()) == true { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out waiting until \(what)")
        throw CancellationError()
    }

    static func keyDigits(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").filter(\.isHexDigit).lowercased()
    }

    /// One line to the admission port and whatever comes back.
    static func exchange(_ line: String, port: UInt16) throws -> [UInt8] {
        let connection = try TCPConnection(host: "127.0.0.1", port: port)
        try connection.write(Array(line.utf8))
        return try connection.read(8192)
    }
}
