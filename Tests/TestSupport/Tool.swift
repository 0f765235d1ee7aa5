import Foundation

/// Runs a reference tool (rdsquashfs, cpio, bsdtar, xorriso, ...) for a test and collects its
/// output. Fails loudly when the tool is missing: a test must not pass without its reference.
public enum Tool {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
        public var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `arguments[0]` (looked up on PATH) with the rest as arguments; `stdin` is a file path.
    @discardableResult
    public static func run(_ arguments: [String], stdin: String? = nil, allowFailure: Bool = false) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdin { process.standardInput = FileHandle(forReadingAtPath: stdin) }
        try process.run()
        // Read both pipes concurrently so neither fills up.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let result = Output(status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
        if process.terminationStatus == 127 {
            throw Failure(description: "\(arguments[0]) is not installed (run `make deps`): \(result.stderr)")
        }
        if !allowFailure && result.status != 0 {
            throw Failure(description: "\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result
    }
}
