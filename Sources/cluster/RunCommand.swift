import Glibc
import ArgumentParser
import ClusterControl

/// `cluster run`: starts a migratable job through the agent, as MOSIX's mosrun does.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start a job in its own PID namespace, on the node where it costs least; print its id (or, with --wait, its output and status).",
        discussion: """
            The job runs as you, in your current directory, with your environment; stdin is \
            /dev/null and its output goes to files the agent keeps (`cluster logs JOB`). It starts \
            on another node when that node is less loaded, its directory is on shared storage \
            (/home) and its program is at the same path there; otherwise here. `cluster ps` says \
            where each job was placed and why.
            """)

    @OptionGroup var options: ControlOptions

    @Option(help: "Start the job on this node (host name or node id) instead of placing it.")
    var node: String?

    @Option(name: .customLong("label"), help: "Start the job only on a node with this label (KEY=VALUE; repeatable).")
    var labels: [String] = []

    @Flag(help: "Start the job here and never move it to another node.")
    var stay = false

    @Flag(help: "Stream the job's output and exit with its status; Ctrl-C (or SIGTERM, SIGHUP) kills the job.")
    var wait = false

    @Argument(parsing: .postTerminator, help: "The command and its arguments (after --).")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("no command given: cluster run [--wait] -- COMMAND [ARGUMENTS...]") }
        _ = try Self.labels(labels)
    }

    func run() throws {
        let spec = try Self.spec(command, labels: Self.labels(labels), stay: stay)
        let job = try Self.start(spec, node: node, socket: options.socket)
        guard wait else {
            if options.json { try Output.printJSON(job) } else { print(job.id) }
            return
        }
        throw ExitCode(try JobWait.follow(job.id, socket: options.socket))
    }

    /// The request for `command` as the caller would run it: its directory, environment and
    /// program as `PATH` finds it.
    static func spec(_ command: [String], labels: [String: String], stay: Bool) throws -> Control.RunSpec {
        let directory = try currentDirectory()
        let environment = environment()
        let path = environment.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
        return Control.RunSpec(
            arguments: command, workingDirectory: directory, environment: environment, stay: stay,
            labels: labels.isEmpty ? nil : labels, program: program(command[0], path: path, directory: directory))
    }

    static func start(_ spec: Control.RunSpec, node: String?, socket: String) throws -> Control.Job {
        let request = Control.Request.run(spec, node: node)
        let response = try Request.send(request, socket: socket)
        guard case .job(let job) = response else { throw Request.unexpected(response, to: request) }
        return job
    }

    /// `KEY=VALUE` options as labels.
    static func labels(_ options: [String]) throws -> [String: String] {
        var labels: [String: String] = [:]
        for option in options {
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("--label \(option): expected KEY=VALUE, like --label gpu=yes")
            }
            labels[String(parts[0])] = String(parts[1])
        }
        return labels
    }

    /// Where a shell would find `name`: itself if it holds a slash (made absolute), else the
    /// first executable file of that name in `path`. Nil if none.
    static func program(_ name: String, path: String?, directory: String) -> String? {
        if name.contains("/") { return name.hasPrefix("/") ? name : directory + "/" + name }
        for entry in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let base = entry.isEmpty ? directory : String(entry)
            let candidate = (base.hasSuffix("/") ? base : base + "/") + name
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate.hasPrefix("/") ? candidate : directory + "/" + candidate
            }
        }
        return nil
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
