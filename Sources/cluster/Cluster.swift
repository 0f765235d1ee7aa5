import Glibc
import ArgumentParser

/// cluster: the command line of the livebuild node runtime. Talks to the local clusterd over
/// its control socket (root or members of the `cluster` group).
@main
struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Inspect the livebuild cluster and run jobs on it from any node.",
        subcommands: [NodesCommand.self, StatusCommand.self, RunCommand.self, ShellCommand.self, PsCommand.self, KillCommand.self, LogsCommand.self, MigrateCommand.self, StayCommand.self, UnstayCommand.self, DrainCommand.self, BalanceCommand.self, PendingCommand.self, AdmitCommand.self, DenyCommand.self])

    /// `cluster-sh ARGS` is `cluster sh ARGS` (make's SHELL and xargs take one program name);
    /// `cluster sh` alone shows its help.
    static func main() {
        let arguments = CommandLine.arguments
        let name = arguments.first?.split(separator: "/").last.map(String.init)
        // `cluster sh` too: its arguments are /bin/sh's (-ec, -o NAME), not this parser's.
        let shell = name == "cluster-sh" ? 1 : arguments.count > 1 && arguments[1] == "sh" && arguments.count > 2 ? 2 : nil
        if let shell {
            do {
                try ShellCommand.run(Array(arguments.dropFirst(shell)))
            } catch {
                Output.error("cluster-sh: \(error)")
                Glibc.exit(127)
            }
        }
        main(nil)
    }
}

/// Options every subcommand shares.
struct ControlOptions: ParsableArguments {
    @Option(help: "The agent's control socket.")
    var socket = "/run/clusterd/control.sock"

    @Flag(help: "Print JSON for scripts instead of a table.")
    var json = false
}
