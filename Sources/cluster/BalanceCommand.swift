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
        let request = Control.Request.balance(enabled: state.map { $0 == "on" })
        let response = try Request.send(request, socket: options.socket)
        guard case .balancing(let on) = response else { throw Request.unexpected(response, to: request) }
        print("automatic balancing: \(on ? "on" : "off")")
    }
}
