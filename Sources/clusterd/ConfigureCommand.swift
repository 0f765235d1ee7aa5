import Agent
import ArgumentParser

/// Applies the node configuration (host name, static address, SSH keys) once at boot.
struct ConfigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "configure",
        abstract: "Apply the node configuration: host name, network, SSH authorized keys.")

    @OptionGroup var node: NodeOptions

    @Option(help: "Write below this directory instead of / (and do not set the kernel's host name).")
    var root: String?

    func run() throws {
        let (_, resolved) = try node.resolve()
        let primary = Agent.HostFacts.read().primary?.mac
        let configurator = Agent.Configurator(root: root ?? "", setKernelHostname: root == nil)
        for change in try configurator.apply(resolved, primaryMAC: primary) {
            print("clusterd configure: \(change)")
        }
    }
}
