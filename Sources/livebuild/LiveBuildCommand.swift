import ArgumentParser
import Foundation

@main
struct LiveBuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "livebuild",
        abstract: "Build bootable live systems from a declarative JSON profile.",
        discussion: "Profiles are described in Docs/profile.md; `livebuild make profiles/cluster.json` builds the default cluster node image.",
        version: "0.1.0",
        subcommands: [MakeCommand.self, ValidateCommand.self, InspectCommand.self, RunCommand.self, ServeCommand.self, ClusterCommand.self, BenchCommand.self, SimulateCommand.self]
    )

    /// Exit statuses: 0 success, 1 failure, 2 usage error (argument-parser's own default for
    /// usage errors is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
