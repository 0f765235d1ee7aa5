import ArgumentParser

/// clusterd: the livebuild node agent. `clusterd` (or `clusterd run`) runs the agent;
/// `clusterd configure` applies the node configuration at boot; `clusterd serve-boot` is the
/// head node's PXE boot server.
@main
struct Clusterd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusterd",
        abstract: "The livebuild node agent: discovery, encrypted membership and load gossip.",
        subcommands: [RunCommand.self, ConfigureCommand.self, ServeBootCommand.self, ShareCommand.self, ExecJobCommand.self, JobMountsCommand.self],
        defaultSubcommand: RunCommand.self)
}
