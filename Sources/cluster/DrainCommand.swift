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
        let response = try Request.send(Control.Request(.drain, node: node), socket: options.socket)
        let reports = response.migrations ?? []
        for warning in response.warnings ?? [] {
            Output.warn(warning)
        }
        if options.json {
            try Output.printJSON(reports)
            return
        }
        for report in reports {
            print("\(report.job): \(report.from) → \(report.to) in \(Output.fixed(report.totalSeconds, decimals: 2)) s")
        }
        if reports.isEmpty && (response.warnings ?? []).isEmpty { print("no running jobs to move") }
    }
}
