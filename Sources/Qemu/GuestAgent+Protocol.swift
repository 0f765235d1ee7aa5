import Foundation

extension Qemu.GuestAgent {
    /// The byte qemu-ga puts before its reply to `guest-sync-delimited`, and that a client sends
    /// to make the agent drop a half-received request. 0xFF never occurs in valid UTF-8 JSON.
    public static let delimiter: UInt8 = 0xFF

    /// What a finished (or still running) `guest-exec` reports through `guest-exec-status`.
    public struct ExecStatus: Sendable, Hashable {
        public var exited: Bool
        /// The exit status when the process exited normally.
        public var exitCode: Int?
        /// The signal that ended the process, if one did.
        public var signal: Int?
        public var standardOutput: [UInt8]
        public var standardError: [UInt8]
        /// qemu-ga keeps at most 16 MiB of each stream; true when it dropped the rest.
        public var truncated: Bool

        public init(exited: Bool, exitCode: Int? = nil, signal: Int? = nil, standardOutput: [UInt8] = [],
                    standardError: [UInt8] = [], truncated: Bool = false) {
            self.exited = exited
            self.exitCode = exitCode
            self.signal = signal
            self.standardOutput = standardOutput
            self.standardError = standardError
            self.truncated = truncated
        }
    }

    /// One request line: `{"arguments":{...},"execute":"NAME"}` and a newline (keys sorted, so
    /// the bytes are stable).
    public static func encodeRequest(_ command: String, arguments: [String: Qemu.JSONValue] = [:]) throws(Qemu.Error) -> [UInt8] {
        struct Request: Encodable {
            var execute: String
            var arguments: [String: Qemu.JSONValue]?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            var bytes = [UInt8](try encoder.encode(Request(execute: command, arguments: arguments.isEmpty ? nil : arguments)))
            bytes.append(UInt8(ascii: "\n"))
            return bytes
        } catch {
            throw .guestAgent(socket: "-", message: "cannot encode \(command): \(error)")
        }
    }

    /// The `return` member of a reply to `command`; the agent's error object becomes
    /// `Qemu.Error.guestAgentCommandFailed`.
    public static func decodeReply(_ line: [UInt8], command: String, socket: String = "-") throws(Qemu.Error) -> Qemu.JSONValue {
        let message: Qemu.JSONValue
        do {
            message = try JSONDecoder().decode(Qemu.JSONValue.self, from: Data(line))
        } catch {
            throw .guestAgent(socket: socket, message: "unreadable reply to \(command): \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        if let result = message["return"] { return result }
        if let error = message["error"] {
            throw .guestAgentCommandFailed(
                command: command, errorClass: error["class"]?.stringValue ?? "Error", description: error["desc"]?.stringValue ?? "")
        }
        throw .guestAgent(socket: socket, message: "reply to \(command) has neither 'return' nor 'error'")
    }

    /// The arguments of `guest-exec` for `path` with `arguments` (argv[1...]), output captured.
    public static func execArguments(path: String, arguments: [String]) -> [String: Qemu.JSONValue] {
        [
            "path": .string(path),
            "arg": .array(arguments.map { .string($0) }),
            "capture-output": .bool(true),
        ]
    }

    /// The process id in the reply to `guest-exec` (`{"pid": N}`).
    public static func decodeExecPID(_ reply: Qemu.JSONValue) throws(Qemu.Error) -> Int {
        guard let pid = reply["pid"]?.intValue else {
            throw .guestAgent(socket: "-", message: "reply to guest-exec has no pid")
        }
        return pid
    }

    /// The reply to `guest-exec-status`; `out-data` and `err-data` are base64.
    public static func decodeExecStatus(_ reply: Qemu.JSONValue) throws(Qemu.Error) -> ExecStatus {
        guard case .bool(let exited) = reply["exited"] else {
            throw .guestAgent(socket: "-", message: "reply to guest-exec-status has no 'exited'")
        }
        func stream(_ key: String) throws(Qemu.Error) -> [UInt8] {
            guard let value = reply[key] else { return [] }
            guard let text = value.stringValue, let data = Data(base64Encoded: text) else {
                throw .guestAgent(socket: "-", message: "'\(key)' in the reply to guest-exec-status is not base64")
            }
            return [UInt8](data)
        }
        var truncated = false
        for key in ["out-truncated", "err-truncated"] {
            if case .bool(true) = reply[key] { truncated = true }
        }
        return ExecStatus(
            exited: exited, exitCode: reply["exitcode"]?.intValue, signal: reply["signal"]?.intValue,
            standardOutput: try stream("out-data"), standardError: try stream("err-data"), truncated: truncated)
    }
}

extension Qemu.JSONValue {
    /// The payload of a number that is a whole number, nil otherwise.
    public var intValue: Int? {
        if case .number(let value) = self, value.rounded() == value, abs(value) < 1e15 { return Int(value) }
        return nil
    }
}
