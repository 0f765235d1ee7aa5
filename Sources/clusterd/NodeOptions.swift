#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Agent
import ArgumentParser
import NodeConfig

/// Where the node's configuration comes from; shared by `run` and `configure`.
struct NodeOptions: ParsableArguments {
    @Option(help: "The profile baked into the image; only its `cluster` section is read.")
    var profile = "/etc/livebuild/profile.json"

    @Option(help: "The cluster key: 64 hex digits.")
    var keyFile = "/etc/livebuild/cluster.key"

    @Option(help: "Use this instead of /proc/cmdline for cluster.* parameters.")
    var kernelCommandLine: String?

    /// The profile's cluster section and the machine's facts, resolved.
    func resolve() throws -> (NodeConfig.ClusterSection, NodeConfig.Resolved) {
        guard let bytes = FileManager.default.contents(atPath: profile) else {
            throw Agent.Failure("cannot read the profile \(profile): the image should carry it; pass --profile")
        }
        let section = try Agent.SettingsLoader.clusterSection(profileJSON: Array(bytes), path: profile)
        var facts = Agent.HostFacts.read()
        if let kernelCommandLine { facts.kernelCommandLine = kernelCommandLine }
        do {
            return (section, try NodeConfig.resolve(section: section, facts: facts))
        } catch {
            throw Agent.Failure(error.message)
        }
    }

    /// The key file's key, or nil when there is no key file (a node that must be admitted).
    func clusterKeyIfPresent() throws -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: keyFile) else { return nil }
        return try clusterKey()
    }

    /// The host this node booted from over the network (fetch= or live.nfs=), if any.
    func bootServer() -> String? {
        NodeConfig.bootServer(kernelCommandLine ?? Agent.HostFacts.read().kernelCommandLine)?.host
    }

    func clusterKey() throws -> [UInt8] {
        guard let bytes = FileManager.default.contents(atPath: keyFile) else {
            throw Agent.Failure("cannot read the cluster key \(keyFile): it must exist and be readable by root (mode 0600)")
        }
        return try Agent.ClusterKey.parse(String(decoding: bytes, as: UTF8.self), path: keyFile)
    }
}
