import ArgumentParser
import Foundation
import Qemu
import VirtualCluster

struct ClusterExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command on a node and exit with its status.",
        discussion: """
            The words after `--` are joined with spaces and run by /bin/sh -c on the node, as ssh does; \
            quote shell syntax meant for the node. The command's stdout and stderr are printed here \
            once it has finished. A command ended by a signal exits with 128 + the signal. The channel \
            is the QEMU guest agent on a virtio-serial port (Docs/virtual-cluster.md).
            """
    )

    @Argument(help: "The node: node1, node2, ... or its number.")
    var node: String

    @Argument(parsing: .postTerminator, help: "The command, after `--`.")
    var command: [String] = []

    @Option(help: "Seconds to wait for the command to finish.")
    var timeout = 120

    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command after `--`: livebuild cluster exec \(node) -- hostname") }
        guard node.hasPrefix("node") ? Int(node.dropFirst(4)) != nil : Int(node) != nil else {
            throw ValidationError("node '\(node)': give node1, node2, ... or a number")
        }
        guard timeout > 0 else { throw ValidationError("--timeout \(timeout): give a number of seconds above 0") }
    }

    func run() async throws {
        let result: Qemu.GuestAgent.ExecStatus
        do {
            let controller = try VirtualCluster.Controller.open(runDirectory: cluster.runDir)
            result = try await controller.exec(node, command: command.joined(separator: " "), timeout: .seconds(timeout))
        } catch {
            throw Failure.report(error)
        }
        FileHandle.standardOutput.write(Data(result.standardOutput))
        FileHandle.standardError.write(Data(result.standardError))
        if result.truncated {
            FileHandle.standardError.write(Data("livebuild: warning: the guest agent truncated the output (16 MiB per stream)\n".utf8))
        }
        if let signal = result.signal {
            FileHandle.standardError.write(Data("livebuild: the command was killed by signal \(signal)\n".utf8))
            throw ExitCode(Int32(128 + signal))
        }
        if let code = result.exitCode, code != 0 { throw ExitCode(Int32(code)) }
    }
}
