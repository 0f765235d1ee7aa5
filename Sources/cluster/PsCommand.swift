import ArgumentParser
import ClusterControl

/// `cluster ps`: the jobs this node runs or ran.
struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps", abstract: "List jobs: owner, home and current node, state, CPU time, memory, migrations, and where each was placed and why.")

    @OptionGroup var options: ControlOptions

    @Flag(help: "Only this node's jobs (default: every live node's).")
    var local = false

    func run() throws {
        let request = Control.Request.ps(localOnly: local)
        let response = try Request.send(request, socket: options.socket)
        guard case .jobs(let jobs, let warnings) = response else { throw Request.unexpected(response, to: request) }
        for warning in warnings {
            Output.warn(warning)
        }
        if options.json {
            try Output.printJSON(jobs)
            return
        }
        // Where each job was placed and why, when one was.
        let placed = jobs.contains { $0.placement != nil }
        var rows = [["JOB", "OWNER", "HOME", "NODE", "STATE", "CPU", "MEM", "WRITES", "MIGR", "COMMAND"] + (placed ? ["PLACED"] : [])]
        for job in jobs {
            let state = job.exitCode.map { "\(job.state.rawValue) \($0)" } ?? job.state.rawValue
            rows.append([
                job.id + (job.stay ? " (stay)" : ""), job.owner, job.homeNode, job.currentNode, state,
                Output.fixed(job.cpuSeconds, decimals: 1) + "s", Output.kibibytes(job.memoryKiB),
                // How fast it writes its memory: what a move's freeze depends on.
                job.dirtyBytesPerSecond.map { Output.bytes(UInt64(max(0, $0))) + "/s" } ?? "-",
                String(job.migrations), job.arguments.joined(separator: " ").replacing("\n", with: "⏎"),
            ] + (placed ? [job.placement ?? "-"] : []))
        }
        print(Output.table(rows), terminator: "")
    }
}
