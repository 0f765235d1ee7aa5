import ArgumentParser

@main
struct LiveBuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "livebuild",
        abstract: "Build bootable live systems from a declarative JSON profile.",
        discussion: "Profiles are described in Docs/profile.md; `livebuild make profiles/cluster.json` builds the default cluster node image.",
        version: "0.1.0",
        subcommands: [MakeCommand.self, ValidateCommand.self, RunCommand.self, BenchCommand.self]
    )
}
