import ArgumentParser
import ClusterControl

/// `cluster nodes`: every member this node knows, with its state and load.
struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes", abstract: "List the cluster's nodes: state, CPUs, load, free memory, jobs, uptime.")

    @OptionGroup var options: ControlOptions

    func run() throws {
        let response = try Request.send(.nodes, socket: options.socket)
        guard case .nodes(let nodes) = response else { throw Request.unexpected(response, to: .nodes) }
        if options.json {
            try Output.printJSON(nodes)
            return
        }
        // Labels only when some node has them.
        let labelled = nodes.contains { !($0.labels ?? [:]).isEmpty }
        var rows = [["NODE", "ID", "ADDRESS", "STATE", "CPUS", "LOAD", "FREE MEM", "JOBS", "UPTIME"] + (labelled ? ["LABELS"] : [])]
        for node in nodes {
            let labels = (node.labels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            rows.append([
                node.hostname + (node.isSelf ? " *" : ""), node.id, node.address, node.state.rawValue,
                node.cpus > 0 ? "\(node.cpus)×\(node.cpuMHz)MHz" : "-",
                Output.fixed(node.load, decimals: 2), Output.kibibytes(node.freeMemoryKiB), String(node.jobs),
                node.uptimeSeconds.map(Output.duration) ?? "-",
            ] + (labelled ? [labels.isEmpty ? "-" : labels] : []))
        }
        print(Output.table(rows), terminator: "")
    }
}
