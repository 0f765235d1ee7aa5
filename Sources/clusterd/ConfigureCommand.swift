#if canImport(Glibc)
import Glibc
#endif
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

    @Option(help: "Seconds to wait for a network interface to appear (the node id comes from its MAC).")
    var waitForNetwork = 1

    func run() throws {
        // This runs early in boot, possibly before the network driver has created the
        // interface: wait for it, or the id would come from DMI now and from the MAC later.
        // clusterd-config.service has already waited for udev when no card was there; the
        // MAC chosen here is kept for the boot (Configurator.primaryMACFile), since udev may
        // rename the cards afterwards.
        if root == nil {
            var waited = 0
            while Agent.HostFacts.read().primary == nil && waited < waitForNetwork * 10 {
                if waited == 0 { print("clusterd configure: waiting up to \(waitForNetwork) s for a network interface") }
                usleep(100_000)
                waited += 1
            }
        }
        let (_, resolved) = try node.resolve()
        let primary = Agent.HostFacts.read().primary?.mac
        let configurator = Agent.Configurator(root: root ?? "", setKernelHostname: root == nil)
        for change in try configurator.apply(resolved, primaryMAC: primary) {
            print("clusterd configure: \(change)")
        }
    }
}
