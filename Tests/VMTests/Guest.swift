import Foundation
import Qemu
import Testing
import TestSupport
import VirtualCluster

/// Commands on a virtual cluster's nodes through their guest agents, for the VM tests.
enum Guest {
    static var logDirectory: String {
        ProcessInfo.processInfo.environment["LIVEBUILD_VM_LOG_DIR"] ?? Repository.root + "/.build/vm-logs"
    }

    /// Standard output of `command` run by `sh -c` on `node`; throws when it exits non-zero.
    static func shell(_ cluster: VirtualCluster.Controller, _ node: String, _ command: String, timeout: Duration = .seconds(300)) async throws -> String {
        let result = try await cluster.exec(node, command: command, timeout: timeout)
        guard result.exitCode == 0 else {
            throw VMTestFailure("\(node): `\(command)` exited \(result.exitCode): \(text(result.standardError))")
        }
        return text(result.standardOutput)
    }

    /// `shell`, trimmed: for commands that print one value (a job id).
    static func run(_ cluster: VirtualCluster.Controller, _ node: String, _ command: String) async throws -> String {
        try await shell(cluster, node, command).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func json<T: Decodable>(_ type: T.Type, _ cluster: VirtualCluster.Controller, _ node: String, _ command: String) async throws -> T {
        let output = try await shell(cluster, node, command, timeout: .seconds(900))
        return try JSONDecoder().decode(T.self, from: Data(output.utf8))
    }

    static func write(_ contents: String, to path: String, on node: String, _ cluster: VirtualCluster.Controller) async throws {
        let encoded = Data(contents.utf8).base64EncodedString()
        _ = try await shell(cluster, node, "echo \(encoded) | base64 -d > \(path)")
    }

    /// Polls `condition` every `interval` until it holds; throws after `deadline` with the last error.
    static func waitUntil(
        _ what: String, deadline: Duration, every interval: Duration = .seconds(1), _ condition: () async throws -> Bool
    ) async throws {
        let end = ContinuousClock.now + deadline
        var lastError: Error?
        while ContinuousClock.now < end {
            do {
                if try await condition() { return }
            } catch {
                lastError = error
            }
            try await Task.sleep(for: interval)
        }
        throw VMTestFailure("timed out after \(deadline) waiting until \(what)\(lastError.map { " (last error: \($0))" } ?? "")")
    }

    /// Each running node's clusterd journal, for failure messages.
    static func agentJournals(_ cluster: VirtualCluster.Controller) async -> String {
        var journals = ""
        for node in cluster.nodes where cluster.isRunning(node) {
            let result = try? await cluster.exec(node.name, command: "journalctl -b --no-pager -u clusterd -u clusterd-config -u clusterd-head | tail -30", timeout: .seconds(30))
            journals += "--- \(node.name) journal:\n" + (result.map { text($0.standardOutput) } ?? "(no answer)") + "\n"
        }
        return journals
    }

    /// Copies each console log to the VM log directory and fails on a kernel panic or oops.
    static func keepAndScanConsoleLogs(_ nodes: [VirtualCluster.Node], prefix: String) {
        try? FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        for node in nodes {
            let kept = logDirectory + "/\(prefix)-\(node.name).log"
            try? FileManager.default.removeItem(atPath: kept)
            try? FileManager.default.copyItem(atPath: node.consoleLog, toPath: kept)
            let failures = Qemu.ConsoleLog.failures(in: text(FileManager.default.contents(atPath: node.consoleLog).map(Array.init) ?? []))
            #expect(failures.isEmpty, "kernel failure on \(node.name)'s console (\(kept)):\n\(failures.joined(separator: "\n"))")
        }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func seconds(_ value: Double) -> String { String(format: "%.2f", value) }
}

struct VMTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
