import ArgumentParser

/// cluster: the command line of the livebuild node runtime. Talks to the local clusterd over
/// its control socket (root or members of the `cluster` group).
@main
struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Inspect the livebuild cluster and run jobs on it from any node.",
        subcommands: [NodesCommand.self, StatusCommand.self, RunCommand.self, PsCommand.self, KillCommand.self, LogsCommand.self, MigrateCommand.self, StayCommand.self, UnstayCommand.self, DrainCommand.self, BalanceCommand.self, PendingCommand.self, AdmitCommand.self, DenyCommand.self])
}

/// Options every subcommand shares.
struct ControlOptions: ParsableArguments {
    @Option(help: "The agent's control socket.")
    var socket = "/run/clusterd/control.sock"

    @Flag(help: "Print JSON for scripts instead of a table.")
    var json = false
}
