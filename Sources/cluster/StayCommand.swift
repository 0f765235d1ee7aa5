import ArgumentParser
import ClusterControl

/// `cluster stay` / `cluster unstay`: pin a job to its node, or let the balancer move it again.
struct StayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stay", abstract: "Pin a job to the node it runs on: automatic balancing never moves it.")

    @OptionGroup var options: ControlOptions

    @Argument(help: "The job id (see `cluster ps`).")
    var job: String

    func run() throws {
        _ = try Request.send(.stay(job: job, pinned: true), socket: options.socket)
    }
}

struct UnstayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unstay", abstract: "Let automatic balancing move a pinned job again.")

    @OptionGroup var options: ControlOptions

    @Argument(help: "The job id (see `cluster ps`).")
    var job: String

    func run() throws {
        _ = try Request.send(.stay(job: job, pinned: false), socket: options.socket)
    }
}
