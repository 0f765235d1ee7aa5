import ArgumentParser
import ClusterControl

/// `cluster kill`: ends a job and every process in it.
struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill", abstract: "Kill a job (SIGKILL to its whole PID namespace).")

    @OptionGroup var options: ControlOptions

    @Argument(help: "The job id (see `cluster ps`).")
    var job: String

    func run() throws {
        _ = try Request.send(.kill(job: job), socket: options.socket)
    }
}
