import Agent
import ArgumentParser
import BootServer

/// The shared directory (clusterd-share.service, when `clusterd configure` left
/// /run/clusterd/share): exported by the head, mounted by every other node
/// (``BootServer/SharedDirectory/Service``; Docs/pxe.md, shared storage).
struct ShareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share",
        abstract: "Export the shared directory over NFS (head) or mount it from the head (other nodes).")

    @Option(help: "The setting written by clusterd configure.")
    var file = Agent.Configurator.shareFile

    @Option(help: "Seconds between mount attempts while the head does not answer.")
    var retry = 3

    @Option(help: "Seconds between asking the agent for the members the export is for (head).")
    var refresh = 5

    func run() async throws {
        guard let text = Agent.HostFacts.text(file) else {
            SharedDirectory.Service.say("clusterd share: \(file) does not exist: nothing to share or mount")
            return
        }
        let setting = try SharedDirectory(line: String(text.split(separator: "\n").first ?? ""))
        try await SharedDirectory.Service(retry: retry, refresh: refresh).run(setting)
    }
}
