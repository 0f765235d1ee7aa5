#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Jobs
import Processes

/// `clusterd job-mounts -- COMMAND...`: the step of every job's launch that runs first in its
/// new mount and PID namespaces, as root with the clean environment: it leaves the job the
/// node's root, its own /proc and the kept mounts (``Jobs/MountNamespace``), then execs the
/// rest of the launch (`setsid`, `setpriv`, `clusterd exec-job`). Not for people to run.
struct JobMountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job-mounts",
        abstract: "Give a job its mount namespace (its own /proc, the node's root and kept mounts) and exec; used by the agent.",
        shouldDisplay: false)

    @Argument(parsing: .postTerminator, help: "The rest of the launch.")
    var command: [String] = []

    func run() throws {
        guard let program = command.first else { throw ValidationError("give the command to run after `--`") }
        guard getpid() == 1 else { throw ValidationError("job-mounts runs as the first process of a job's new PID namespace") }
        if let problem = Jobs.MountNamespace.prune() {
            Self.say("clusterd job-mounts: \(problem)")
            throw ExitCode(126)
        }
        var arguments = command.map { strdup($0) } + [nil]
        Processes.resetSignalsForExec()
        execv(program, &arguments)
        Self.say("clusterd job-mounts: cannot run \(program): \(String(cString: strerror(errno)))")
        throw ExitCode(127)
    }

    /// One line on standard error (the job's stderr file).
    static func say(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
