import Foundation
import Qemu
import Testing

/// The guest-agent client: message encoding and decoding, and a whole exec against a fake agent
/// on a Unix socket that answers as qemu-ga does (stale bytes before the sync reply included).
@Suite struct VirtualClusterGuestAgentTests {
    @Test func requestsAreOneSortedJSONLine() throws {
        let bytes = try Qemu.GuestAgent.encodeRequest(
            "guest-exec", arguments: Qemu.GuestAgent.execArguments(path: "/bin/sh", arguments: ["-c", "echo a/b"]))
        #expect(String(decoding: bytes, as: UTF8.self)
            == #"{"arguments":{"arg":["-c","echo a/b"],"capture-output":true,"path":"/bin/sh"},"execute":"guest-exec"}"# + "\n")
        #expect(String(decoding: try Qemu.GuestAgent.encodeRequest("guest-ping"), as: UTF8.self) == #"{"execute":"guest-ping"}"# + "\n")
    }

    @Test func execStatusDecodesBase64StreamsAndStatus() throws {
        let reply = try Qemu.GuestAgent.decodeReply(Array(#"{"return": {"exitcode": 3, "out-data": "b3V0Cg==", "err-data": "ZXJyCg==", "exited": true}}"#.utf8), command: "guest-exec-status")
        let status = try Qemu.GuestAgent.decodeExecStatus(reply)
        #expect(status == .init(exited: true, exitCode: 3, standardOutput: Array("out\n".utf8), standardError: Array("err\n".utf8)))
    }

    @Test func execStatusOfARunningAndOfAKilledProcess() throws {
        #expect(try Qemu.GuestAgent.decodeExecStatus(.object(["exited": .bool(false)])) == .init(exited: false))
        let killed = try Qemu.GuestAgent.decodeExecStatus(.object([
            "exited": .bool(true), "signal": .number(9), "out-data": .string("eA=="), "out-truncated": .bool(true),
        ]))
        #expect(killed.signal == 9 && killed.exitCode == nil && killed.truncated && killed.standardOutput == [UInt8(ascii: "x")])
    }

    @Test func malformedRepliesAreErrors() {
        #expect(throws: Qemu.Error.self) { try Qemu.GuestAgent.decodeExecStatus(.object(["exited": .bool(true), "out-data": .string("not base64!")])) }
        #expect(throws: Qemu.Error.self) { try Qemu.GuestAgent.decodeExecStatus(.object([:])) }
        #expect(throws: Qemu.Error.self) { try Qemu.GuestAgent.decodeExecPID(.object([:])) }
        #expect(throws: Qemu.Error.self) { try Qemu.GuestAgent.decodeReply(Array("garbage".utf8), command: "guest-ping") }
        #expect(throws: Qemu.Error.self) { try Qemu.GuestAgent.decodeReply(Array("{}".utf8), command: "guest-ping") }
    }

    @Test func agentErrorsCarryTheirClassAndDescription() {
        let line = Array(#"{"error": {"class": "GenericError", "desc": "Guest-exec is disabled"}}"#.utf8)
        #expect {
            try Qemu.GuestAgent.decodeReply(line, command: "guest-exec")
        } throws: { error in
            guard case .guestAgentCommandFailed(let command, let errorClass, let description) = error as? Qemu.Error else { return false }
            return command == "guest-exec" && errorClass == "GenericError" && description == "Guest-exec is disabled"
        }
    }

    @Test func execAgainstAFakeAgent() async throws {
        let agent = try FakeAgent()
        defer { agent.stop() }
        let client = Qemu.GuestAgent(socketPath: agent.path)
        #expect(client.ping(timeout: .seconds(30)))
        let status = try await client.shell("echo out; echo err >&2; exit 3", timeout: .seconds(60))
        #expect(String(decoding: status.standardOutput, as: UTF8.self) == "out\n")
        #expect(String(decoding: status.standardError, as: UTF8.self) == "err\n")
        #expect(status.exitCode == 3)
        #expect(agent.commands.contains("guest-exec-status"), "polled until exited")
    }

    @Test func noAgentMeansNoPing() {
        #expect(!Qemu.GuestAgent(socketPath: "/nonexistent/livebuild-test.qga").ping(timeout: .milliseconds(200)))
    }
}

/// A qemu-ga stand-in on a Unix socket: answers each connection's `guest-sync-delimited` after a
/// stale reply and a 0xFF, then `guest-ping`, `guest-exec` (pid 77) and `guest-exec-status`
/// (running once, then exited 3 with "out\n" and "err\n").
final class FakeAgent: @unchecked Sendable {
    let directory: String
    var path: String { directory + "/agent.qga" }
    private let listener: Int32
    private let lock = NSLock()
    private var seen: [String] = []
    var commands: [String] { lock.withLock { seen } }

    init() throws {
        directory = NSTemporaryDirectory() + "lb-fake-qga-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(directory.utf8) + Array("/agent.qga".utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 4) == 0 else { throw CocoaError(.fileWriteUnknown) }
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ fd: Int32) {
        var buffer: [UInt8] = []
        var statusCalls = 0
        func reply(_ text: String, delimited: Bool = false) {
            let bytes = (delimited ? [UInt8(0xFF)] : []) + Array((text + "\n").utf8)
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        while true {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            buffer += chunk[..<count]
            if let delimiter = buffer.lastIndex(of: 0xFF) { buffer.removeSubrange(...delimiter) }
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(buffer[..<newline])
                buffer.removeSubrange(...newline)
                guard let request = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                      let command = request["execute"] as? String else { continue }
                lock.withLock { seen.append(command) }
                let arguments = request["arguments"] as? [String: Any] ?? [:]
                switch command {
                case "guest-sync-delimited":
                    reply(#"{"return": 12345}"#)  // a stale answer to an earlier client
                    reply(#"{"return": \#(arguments["id"] as? Int ?? 0)}"#, delimited: true)
                case "guest-ping":
                    reply(#"{"return": {}}"#)
                case "guest-exec":
                    reply(#"{"return": {"pid": 77}}"#)
                case "guest-exec-status":
                    statusCalls += 1
                    reply(statusCalls == 1 ? #"{"return": {"exited": false}}"#
                        : #"{"return": {"exitcode": 3, "out-data": "b3V0Cg==", "err-data": "ZXJyCg==", "exited": true}}"#)
                default:
                    reply(#"{"error": {"class": "CommandNotFound", "desc": "unknown"}}"#)
                }
            }
        }
    }
}
