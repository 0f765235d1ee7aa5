import Foundation

extension Qemu.VM {
    /// Types `text` on the serial console, as a person at the console would.
    public func type(_ text: String) throws(Qemu.Error) {
        guard let path = consoleSocketPath else {
            throw .console("this VM's console is on the terminal; type there")
        }
        try consoleInput.write(Array(text.utf8), path: path)
    }

    /// The result of a command run on the serial console's shell.
    public struct ShellResult: Sendable {
        public var output: String
        public var status: Int
    }

    /// Runs `command` in the shell logged in on the serial console and returns what it printed
    /// and its exit status. The command is framed by unique markers so its output can be cut out
    /// of the console log; it must not read from the console. Needs a shell prompt (the live
    /// system logs root in on ttyS0).
    public func shell(_ command: String, timeout: Duration) async throws -> ShellResult {
        let token = "LB\(UInt32.random(in: 100_000...999_999))"
        let start = consoleText().utf8.count
        // The markers are printed by printf from parts, so the echoed command line never
        // contains them in one piece.
        try type("printf '%s-%s\\n' \(token) BEGIN; \(command); printf '%s-%s-%d\\n' \(token) END $?\n")
        let end = try await waitFor(pattern: "\(token)-END-", timeout: timeout, from: start)
        let text = consoleText()
        let utf8 = Array(text.utf8)
        let slice = String(decoding: utf8[min(start, utf8.count)...], as: UTF8.self)
        var output = ""
        if let begin = slice.range(of: "\(token)-BEGIN\r\n") ?? slice.range(of: "\(token)-BEGIN\n"),
           let finish = slice.range(of: "\(token)-END-") {
            output = String(slice[begin.upperBound..<finish.lowerBound])
        }
        let statusText = end.line.components(separatedBy: "\(token)-END-").last ?? ""
        let status = Int(statusText.prefix { $0.isNumber }) ?? -1
        return ShellResult(output: output.replacingOccurrences(of: "\r\n", with: "\n"), status: status)
    }
}
