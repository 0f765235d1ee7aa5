import Foundation
import Logging
import Subprocess

/// Runs external host tools (xorriso, mkfs.fat, grub-mkimage, ...) and turns a failure into an
/// error that carries the tool's own stderr.
///
/// Every tool gets the same fixed environment on top of the inherited one (for reproducibility:
/// `SOURCE_DATE_EPOCH`, `TZ=UTC`, `LC_ALL=C`), plus per-call additions.
public struct ToolRunner: Sendable {
    /// What a tool printed.
    public struct Output: Sendable, Hashable {
        public var standardOutput: String
        public var standardError: String
    }

    /// A tool that could not be found, started, or that failed.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var tool: String
        public var arguments: [String]
        /// "exit status 2", "signal 9", "not found on PATH", ...
        public var reason: String
        /// The tool's stderr (its last 8 KiB).
        public var standardError: String

        public var description: String {
            let command = ([tool] + arguments).joined(separator: " ")
            let stderr = standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(tool) failed (\(reason)): \(command)" + (stderr.isEmpty ? "" : "\n\(stderr)")
        }
    }

    /// Variables set for every tool, overriding the inherited environment.
    public var environment: [String: String]
    public var logger: Logger

    /// Largest stdout/stderr collected per call.
    public var outputLimit = 64 << 20

    public init(environment: [String: String] = [:], logger: Logger = Logger(label: "livebuild.tools")) {
        self.environment = ["TZ": "UTC", "LC_ALL": "C"].merging(environment) { _, new in new }
        self.logger = logger
    }

    /// A runner whose tools see `SOURCE_DATE_EPOCH=epoch`.
    public func withSourceDateEpoch(_ epoch: Int64) -> ToolRunner {
        var copy = self
        copy.environment["SOURCE_DATE_EPOCH"] = String(epoch)
        return copy
    }

    /// Runs `tool` (a name looked up on PATH, /usr/sbin and /sbin, or a path) and returns its
    /// output; throws `Failure` unless it exits with status 0.
    @discardableResult
    public func run(
        _ tool: String,
        _ arguments: [String],
        environment extra: [String: String] = [:],
        workingDirectory: String? = nil
    ) async throws(Failure) -> Output {
        guard let executable = Self.locate(tool) else {
            throw Failure(tool: tool, arguments: arguments, reason: "not found on PATH, /usr/sbin or /sbin", standardError: "")
        }
        var variables: [Environment.Key: String?] = [:]
        for (key, value) in environment.merging(extra, uniquingKeysWith: { _, new in new }) {
            variables[Environment.Key(stringLiteral: key)] = value
        }
        logger.debug("running tool", metadata: ["command": "\(([tool] + arguments).joined(separator: " "))"])
        let output: Output
        let status: TerminationStatus
        do {
            let result = try await Subprocess.run(
                .path(.init(executable)),
                arguments: Arguments(arguments),
                environment: .inherit.updating(variables),
                workingDirectory: workingDirectory.map { .init($0) },
                output: .string(limit: outputLimit),
                error: .string(limit: outputLimit))
            output = Output(standardOutput: result.standardOutput, standardError: result.standardError)
            status = result.terminationStatus
        } catch {
            throw Failure(tool: tool, arguments: arguments, reason: "could not run: \(error)", standardError: "")
        }
        switch status {
        case .exited(0):
            return output
        case .exited(let code):
            throw Failure(tool: tool, arguments: arguments, reason: "exit status \(code)", standardError: String(output.standardError.suffix(8192)))
        case .signaled(let signal):
            throw Failure(tool: tool, arguments: arguments, reason: "signal \(signal)", standardError: String(output.standardError.suffix(8192)))
        }
    }

    /// The absolute path of `tool`, or nil.
    public static func locate(_ tool: String) -> String? {
        if tool.contains("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        return directories.lazy.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
