import Glibc
import ArgumentParser
import ClusterControl

/// `cluster sh -c COMMAND` (also installed as `cluster-sh`): a shell that runs each command as
/// a placed cluster job and waits for it, so it can stand in for /bin/sh where work is started
/// in parallel: `make -j24 SHELL=cluster-sh`, `xargs -P 24 cluster-sh -c`, GNU parallel's
/// `--shell`... Output streams back as it comes, Ctrl-C kills the job, and the exit status is
/// the job's. Without `-c` (a script file, an interactive shell) it is plain /bin/sh here.
struct ShellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sh",
        abstract: "Run `-c COMMAND` as a cluster job placed on the least loaded node, as /bin/sh would run it here.",
        discussion: """
            Options before the command are /bin/sh's (-c, -e, -x, ...) and go to the job's shell. \
            CLUSTER_LABELS=KEY=VALUE,... in the environment limits the nodes; CLUSTER_SOCKET \
            names the agent's control socket.
            """)

    @Argument(parsing: .allUnrecognized, help: "/bin/sh's arguments: [OPTIONS] -c COMMAND [NAME [ARGUMENTS...]].")
    var arguments: [String] = []

    func run() throws {
        try Self.run(arguments)
    }

    /// The shell every job runs in.
    static let shell = "/bin/sh"

    static func run(_ arguments: [String]) throws -> Never {
        guard hasCommandFlag(arguments) else { execShell(arguments) }
        let environment = RunCommand.environment()
        let labels = try RunCommand.labels(
            (environment.first { $0.hasPrefix("CLUSTER_LABELS=") }?.dropFirst("CLUSTER_LABELS=".count))
                .map { $0.split(separator: ",").map(String.init) } ?? [])
        let socket = environment.first { $0.hasPrefix("CLUSTER_SOCKET=") }.map { String($0.dropFirst("CLUSTER_SOCKET=".count)) }
            ?? Control.defaultSocketPath
        do {
            let spec = try RunCommand.spec([shell] + arguments, labels: labels, stay: false)
            let job = try RunCommand.start(spec, node: nil, socket: socket)
            Glibc.exit(try JobWait.follow(job.id, socket: socket))
        } catch {
            Output.error("cluster-sh: \(error)")
            Glibc.exit(127)
        }
    }

    /// Whether the options before the first operand include `c` (`-c`, `-ec`, `-xc`...).
    static func hasCommandFlag(_ arguments: [String]) -> Bool {
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            guard argument.hasPrefix("-") || argument.hasPrefix("+"), argument != "-", argument != "--" else { return false }
            if argument.hasPrefix("-") && argument.dropFirst().contains("c") { return true }
            // `-o NAME` and `+o NAME` take the next argument; other options stand alone.
            index += argument.dropFirst().contains("o") ? 2 : 1
        }
        return false
    }

    /// /bin/sh with the same arguments, in this process.
    static func execShell(_ arguments: [String]) -> Never {
        let argv = ([shell] + arguments).map { strdup($0) } + [nil]
        execv(shell, argv)
        Output.error("cluster-sh: cannot run \(shell): \(String(cString: strerror(errno)))")
        Glibc.exit(127)
    }
}
