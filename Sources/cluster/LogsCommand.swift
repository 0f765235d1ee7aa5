import Glibc
import ArgumentParser
import ClusterControl

/// `cluster logs`: a job's output, stdout to stdout and stderr to stderr.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Print a job's output; with -f, keep printing until it ends.")

    @OptionGroup var options: ControlOptions

    @Flag(name: [.short, .customLong("follow")], help: "Keep printing new output until the job ends.")
    var follow = false

    @Argument(help: "The job id (see `cluster ps`).")
    var job: String

    func run() throws {
        _ = try Self.follow(job, socket: options.socket, follow: follow)
    }

    /// Copies the job's output to this process's stdout and stderr; with `follow`, until the
    /// job has ended and all of it was printed. Returns the job as last seen.
    static func follow(_ id: String, socket: String, follow: Bool) throws -> Control.Job {
        var offsets = Control.LogOffsets()
        while true {
            let request = Control.Request.logs(job: id, from: offsets, wait: follow)
            let response = try Request.send(request, socket: socket)
            guard case .logs(let chunk) = response else { throw Request.unexpected(response, to: request) }
            write(chunk.stdout, to: 1)
            write(chunk.stderr, to: 2)
            offsets = chunk.next
            let drained = chunk.stdout.isEmpty && chunk.stderr.isEmpty
            if drained && (!follow || chunk.job.hasEnded) { return chunk.job }
        }
    }

    /// Writes all of `bytes`; false if the descriptor would take no more (errno says why:
    /// EPIPE when the reader went away).
    @discardableResult
    static func write(_ bytes: some Collection<UInt8>, to descriptor: Int32) -> Bool {
        var pending = Array(bytes)
        while !pending.isEmpty {
            let written = pending.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            pending.removeFirst(written)
        }
        return true
    }
}
