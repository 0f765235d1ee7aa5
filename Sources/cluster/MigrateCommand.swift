import ArgumentParser
import ClusterControl

/// `cluster migrate`: moves a running job to another node with its state.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Move a running job to NODE (or back to its home node) without restarting it.")

    @OptionGroup var options: ControlOptions

    @Flag(help: "Pre-copy even for a job that writes its memory faster than the link carries it (by default such a job moves by post-copy).")
    var precopy = false

    @Flag(help: "Skip the pre-copy rounds: one dump, the job frozen for all of it.")
    var noPrecopy = false

    @Flag(help: "Post-copy: run the job on NODE at once and let its memory follow (for a job that rewrites its memory faster than pre-copy can copy it). Until the last page has arrived the job needs both nodes.")
    var postcopy = false

    @Flag(help: "Stop the job's move now, before its freeze; it runs on where it is. Give no NODE.")
    var cancel = false

    @Argument(help: "The job id (see `cluster ps`).")
    var job: String

    @Argument(help: "The destination: a host name, a node id, or `home`.")
    var node: String?

    func validate() throws {
        if cancel {
            guard node == nil else { throw ValidationError("--cancel stops the job's current move: give only the job id, not a node") }
            guard !precopy && !noPrecopy && !postcopy else { throw ValidationError("--cancel stops a move: --precopy, --no-precopy and --postcopy do not go with it") }
        } else if [precopy, noPrecopy, postcopy].filter({ $0 }).count > 1 {
            throw ValidationError("--precopy, --no-precopy and --postcopy are ways to move: choose one (or none, and the agent chooses)")
        } else if node == nil {
            throw ValidationError("give the destination node after the job id (a host name, a node id, or `home`), or --cancel")
        }
    }

    func run() throws {
        if cancel {
            let request = Control.Request.cancelMove(job: job)
            let response = try Request.send(request, socket: options.socket)
            guard case .job(let row) = response else { throw Request.unexpected(response, to: request) }
            if options.json {
                try Output.printJSON(row)
                return
            }
            print("\(job): move cancelled; it runs on \(row.currentNode)")
            return
        }
        guard let node else { return }
        let request = Control.Request.migrate(job: job, to: node, method: postcopy ? .postcopy : noPrecopy ? .stopAndCopy : precopy ? .precopy : .automatic)
        let response = try Request.send(request, socket: options.socket)
        guard case .migration(let report) = response else { throw Request.unexpected(response, to: request) }
        if options.json {
            try Output.printJSON(report)
            return
        }
        let rounds = report.precopyRounds.map(Output.bytes).joined(separator: ", ")
        print("\(report.job): \(report.from) → \(report.to) in \(Output.fixed(report.totalSeconds, decimals: 2)) s, "
            + "frozen \(Output.fixed(report.frozenSeconds, decimals: 2)) s (final dump \(Output.fixed(report.dumpSeconds, decimals: 2)) s), \(Output.bytes(report.bytes)) sent"
            + (rounds.isEmpty ? "" : ", pre-copy rounds \(rounds)")
            + (report.postcopy == true
                ? ", memory followed in \(Output.fixed(report.pullSeconds ?? 0, decimals: 2)) s (post-copy)"
                : (report.pullSeconds ?? 0) >= 0.01 ? ", memory filled in \(Output.fixed(report.pullSeconds ?? 0, decimals: 2)) s while it ran" : "")
            + (report.choice.map { "\n  \($0)" } ?? ""))
    }
}
