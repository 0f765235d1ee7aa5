import ArgumentParser
import ClusterControl

/// `cluster drain`: move every running job off a node, e.g. before shutting it down.
struct DrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain", abstract: "Move every running job off NODE (default: this node) to the least loaded others. Root only.")

    @OptionGroup var options: ControlOptions

    @Argument(help: "The node to empty (host name or node id).")
    var node: String?

    func run() throws {
        let request = Control.Request.drain(node: node)
        let response = try Request.send(request, socket: options.socket)
        guard case .migrations(let reports, let warnings) = response else { throw Request.unexpected(response, to: request) }
        for warning in warnings {
            Output.warn(warning)
        }
        if options.json {
            try Output.printJSON(reports)
            return
        }
        for report in reports {
            print("\(report.job): \(report.from) → \(report.to) in \(Output.fixed(report.totalSeconds, decimals: 2)) s")
        }
        if reports.isEmpty && warnings.isEmpty { print("no running jobs to move") }
    }
}
