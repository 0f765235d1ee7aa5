import ArgumentParser
import Jobs

/// `clusterd exec-job --directory DIR -- COMMAND...`: the last step of every job's launch, started by the agent
/// through `setpriv` as the job's user. Not for people to run (Docs/security.md, "Helpers run
/// clean").
struct ExecJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec-job",
        abstract: "Apply a job's environment (descriptor 3) and exec it; used by the agent.",
        shouldDisplay: false)

    @Option(help: "The directory the job starts in.")
    var directory: String?

    @Argument(parsing: .postTerminator, help: "The job's command and arguments.")
    var command: [String] = []

    func run() throws {
        throw ExitCode(Jobs.ExecHelper.run(command, directory: directory))
    }
}
