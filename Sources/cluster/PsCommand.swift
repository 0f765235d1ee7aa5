import ArgumentParser
import ClusterControl

/// `cluster ps`: the jobs this node runs or ran.
struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps", abstract: "List jobs: owner, home and current node, state, CPU time, memory, migrations.")

    @OptionGroup var options: ControlOptions

    @Flag(help: "Only this node's jobs (default: every live node's).")
    var local = false

    func run() throws {
        let response = try Request.send(Control.Request(.ps, local: local), socket: options.socket)
        for warning in response.warnings ?? [] {
            Output.warn(warning)
        }
        let jobs = response.jobs ?? []
        if options.json {
            try Output.printJSON(jobs)
            return
        }
        var rows = [["JOB", "OWNER", "HOME", "NODE", "STATE", "CPU", "MEM", "MIGR", "COMMAND"]]
        for job in jobs {
            let state = job.exitCode.map { "\(job.state) \($0)" } ?? job.state
            rows.append([
                job.id + (job.stay ? " (stay)" : ""), job.owner, job.homeNode, job.currentNode, state,
                Output.fixed(job.cpuSeconds, decimals: 1) + "s", Output.kibibytes(job.memoryKiB),
                String(job.migrations), job.arguments.joined(separator: " ").replacing("\n", with: "⏎"),
            ])
        }
        print(Output.table(rows), terminator: "")
    }
}
