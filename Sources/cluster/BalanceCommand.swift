import ArgumentParser
import ClusterControl

/// `cluster balance [on|off]`: this node's automatic load balancing.
struct BalanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balance",
        abstract: "Show, or switch (root), this node's automatic load balancing: off, it neither sends nor takes jobs by itself.")

    @OptionGroup var options: ControlOptions

    @Argument(help: "on or off; omitted: show.")
    var state: String?

    func validate() throws {
        if let state, state != "on", state != "off" { throw ValidationError("expected on or off, not \(state)") }
    }

    func run() throws {
        let response = try Request.send(Control.Request(.balance, enabled: state.map { $0 == "on" }), socket: options.socket)
        print("automatic balancing: \((response.balancing ?? false) ? "on" : "off")")
    }
}
