import Glibc
import ArgumentParser
import ClusterControl

/// `cluster run`: starts a migratable job through the agent, as MOSIX's mosrun does.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start a job in its own PID namespace; print its id (or, with --wait, its output and status).",
        discussion: """
            The job runs as you, in your current directory, with your environment; stdin is \
            /dev/null and its output goes to files the agent keeps (`cluster logs JOB`).
            """)

    @OptionGroup var options: ControlOptions

    @Option(help: "Start the job on this node (host name or node id) instead of here.")
    var node: String?

    @Flag(help: "Never move this job to another node.")
    var stay = false

    @Flag(help: "Stream the job's output and exit with its status.")
    var wait = false

    @Argument(parsing: .postTerminator, help: "The command and its arguments (after --).")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("no command given: cluster run [--wait] -- COMMAND [ARGUMENTS...]") }
    }

    func run() throws {
        let spec = Control.RunSpec(
            arguments: command, workingDirectory: try Self.currentDirectory(), environment: Self.environment(), stay: stay)
        let request = Control.Request.run(spec, node: node)
        let response = try Request.send(request, socket: options.socket)
        guard case .job(let job) = response else { throw Request.unexpected(response, to: request) }
        guard wait else {
            if options.json { try Output.printJSON(job) } else { print(job.id) }
            return
        }
        let ended = try LogsCommand.follow(job.id, socket: options.socket, follow: true)
        throw ExitCode(ended.state == .exited ? (ended.exitCode ?? 1) : 128 + (ended.exitCode ?? 0))
    }

    /// The caller's directory, where the job starts.
    static func currentDirectory() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else {
            throw Failure(description: "cannot tell the current directory (\(String(cString: strerror(errno)))); cd to an existing directory and run again")
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func environment() -> [String] {
        var pairs: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            pairs.append(String(cString: entry))
            pointer += 1
        }
        return pairs
    }
}
