import ArgumentParser

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "A virtual cluster: N QEMU nodes on a private network on this machine (needs root).",
        discussion: """
            The nodes boot an ISO on a network that exists only inside a network namespace of their own \
            (a bridge, a tap per node, dnsmasq for DHCP); host interfaces are not touched. Commands run \
            on nodes through the QEMU guest agent. See Docs/virtual-cluster.md.
            """,
        subcommands: [ClusterUpCommand.self, ClusterExecCommand.self, ClusterDownCommand.self]
    )
}

/// The run directory, shared by the cluster subcommands.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Run directory: state file, console logs, sockets; it also names the cluster's network namespace.")
    var runDir = ClusterOptions.defaultRunDirectory

    static let defaultRunDirectory = "/var/lib/livebuild/cluster"
}
