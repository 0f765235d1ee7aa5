import Foundation
import Testing
@testable import NodeConfig

/// Node configuration precedence (profile < per-node rule < kernel parameter), node identity,
/// and the errors a bad value gets.
@Suite struct NodeConfigTests {
    static let facts = NodeConfig.Facts(
        interfaces: [
            .init(name: "tap0", mac: "fe:00:00:00:00:01", physical: false),
            .init(name: "enp0s2", mac: "52-54-00-AB-CD-EF", physical: true),
        ],
        dmiSerial: "SN-0042", productUUID: "5e0b3c1a-0000-4000-8000-000000000001")

    static let section = NodeConfig.ClusterSection(
        name: "lab", peers: ["10.0.0.1"], labels: ["rack": "1"],
        nodes: [
            .init(match: .init(serial: "OTHER"), hostname: "other"),
            .init(match: .init(mac: "52:54:00:ab:cd:ef"), hostname: "n1", role: .head, address: "10.0.0.5/24",
                  gateway: "10.0.0.1", labels: ["gpu": "yes"]),
        ])

    func facts(cmdline: String) -> NodeConfig.Facts {
        var facts = Self.facts
        facts.kernelCommandLine = cmdline
        return facts
    }

    /// The head exports the shared directory; a diskless node mounts it from the head it booted
    /// from (`fetch=`), unless the profile or `cluster.shared` names another server or turns it off.
    @Test func sharedDirectoryFollowsTheRoleAndTheBootServer() throws {
        let fetch = "fetch=http://10.77.0.99/live/filesystem.squashfs"
        #expect(try NodeConfig.resolve(section: .init(), facts: facts(cmdline: "quiet")).share == .discover(path: "/home"), "no server known: the member that exports it")
        let diskless = try NodeConfig.resolve(section: .init(), facts: facts(cmdline: "quiet " + fetch))
        #expect(diskless.share == .mount(server: "10.77.0.99", path: "/home"))
        #expect(diskless.sharedServer.source == .kernel(parameter: fetch))
        let nfsRoot = try NodeConfig.resolve(section: .init(), facts: facts(cmdline: "live.nfs=10.77.0.98:/run/live/medium quiet"))
        #expect(nfsRoot.share == .mount(server: "10.77.0.98", path: "/home"), "an NFS-root node mounts /home from its NFS server")
        let head = try NodeConfig.resolve(section: .init(role: .head), facts: facts(cmdline: ""))
        #expect(head.share == .export(path: "/home"))
        let scratch = try NodeConfig.resolve(section: .init(shared: .init(path: "/scratch", server: "head.lab")), facts: facts(cmdline: fetch))
        #expect(scratch.share == .mount(server: "head.lab", path: "/scratch"), "the profile's server wins over the boot server")
        #expect(try NodeConfig.resolve(section: .init(shared: .init(enabled: false)), facts: facts(cmdline: fetch)).share == nil)
        #expect(try NodeConfig.resolve(section: .init(), facts: facts(cmdline: fetch + " cluster.shared=off")).share == nil)
        #expect(try NodeConfig.resolve(section: .init(), facts: facts(cmdline: "cluster.shared=10.0.0.1")).share == .mount(server: "10.0.0.1", path: "/home"))
        #expect(throws: NodeConfig.Error.self) { try NodeConfig.resolve(section: .init(shared: .init(path: "/")), facts: facts(cmdline: "")) }
    }

    @Test func headDHCPRangeComesFromTheProfile() throws {
        let head = try NodeConfig.resolve(section: .init(role: .head, head: .init(dhcpRange: "10.77.0.10,10.77.0.200")), facts: facts(cmdline: ""))
        #expect(head.dhcpRange == .init("10.77.0.10,10.77.0.200", .profile))
        let error = #expect(throws: NodeConfig.Error.self) {
            try NodeConfig.resolve(section: .init(head: .init(dhcpRange: "10.77.0.10")), facts: facts(cmdline: ""))
        }
        #expect(error?.message.contains("expected FIRST,LAST") == true)
    }

    @Test func identityComesFromThePrimaryPhysicalMAC() throws {
        let identity = try #require(NodeConfig.nodeIdentity(Self.facts))
        #expect(identity.id == 0x5254_00ab_cdef)
        #expect(identity.source == .mac(interface: "enp0s2", mac: "52:54:00:ab:cd:ef"))
        let noNIC = NodeConfig.Facts(interfaces: [], productUUID: "5E0B3C1A-0000-4000-8000-000000000001")
        let fromUUID = try #require(NodeConfig.nodeIdentity(noNIC))
        #expect(fromUUID.id >> 63 == 1, "hashed ids never collide with MAC-derived ones")
        #expect(NodeConfig.nodeIdentity(noNIC)?.id == fromUUID.id, "stable")
        #expect(NodeConfig.nodeIdentity(NodeConfig.Facts(interfaces: [])) == nil)
    }

    @Test func defaultsWithoutProfileOrParameters() throws {
        let resolved = try NodeConfig.resolve(section: .init(), facts: Self.facts)
        #expect(resolved.hostname == .init("node-abcdef", .builtIn))
        #expect(resolved.clusterName == .init("livebuild", .builtIn))
        #expect(resolved.role.value == .node)
        #expect(resolved.address.value == nil)
    }

    @Test func ruleMatchedByMACOverridesTheProfile() throws {
        let resolved = try NodeConfig.resolve(section: Self.section, facts: Self.facts)
        #expect(resolved.clusterName == .init("lab", .profile))
        #expect(resolved.hostname == .init("n1", .rule(index: 1)))
        #expect(resolved.role == .init(.head, .rule(index: 1)))
        #expect(resolved.address.value == "10.0.0.5/24")
        #expect(resolved.labels.value == ["rack": "1", "gpu": "yes"])
        #expect(resolved.peers == .init(["10.0.0.1"], .profile))
    }

    @Test func ruleMatchedBySerial() throws {
        var facts = Self.facts
        facts.dmiSerial = "OTHER"
        let resolved = try NodeConfig.resolve(section: Self.section, facts: facts)
        #expect(resolved.hostname == .init("other", .rule(index: 0)), "the first matching rule wins")
    }

    @Test func kernelParametersOverrideEverything() throws {
        let resolved = try NodeConfig.resolve(section: Self.section, facts: facts(
            cmdline: "console=ttyS0 cluster.hostname=boot1 cluster.role=node cluster.address=dhcp cluster.peers=a,b cluster.labels=zone=x quiet"))
        #expect(resolved.hostname == .init("boot1", .kernel(parameter: "cluster.hostname=boot1")))
        #expect(resolved.role.value == .node)
        #expect(resolved.address == .init(nil, .kernel(parameter: "cluster.address=dhcp")))
        #expect(resolved.peers.value == ["a", "b"])
        #expect(resolved.labels.value["zone"] == "x" && resolved.labels.value["gpu"] == "yes")
        #expect(resolved.hostname.source.description == "kernel cluster.hostname=boot1")
    }

    @Test(arguments: [
        ("cluster.role=boss", "expected cluster.role=node or cluster.role=head"),
        ("cluster.colour=red", "unknown setting 'colour'"),
        ("cluster.hostname", "expected cluster.KEY=VALUE"),
        ("cluster.hostname=bad_name", "not a valid host name"),
        ("cluster.address=10.0.0.300/24", "expected an IPv4 address with prefix length"),
        ("cluster.gateway=gw", "expected an IPv4 address"),
        ("cluster.labels=novalue", "expected cluster.labels=KEY=VALUE"),
        ("cluster.shared=head:/home", "expected cluster.shared=HOST"),
    ])
    func badParametersAreErrors(cmdline: String, message: String) {
        let error = #expect(throws: NodeConfig.Error.self) {
            try NodeConfig.resolve(section: Self.section, facts: facts(cmdline: cmdline))
        }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func clusterSectionDecodesFromTheProfileJSON() throws {
        let json = #"{"name":"lab","role":"node","peers":["10.0.0.1"],"nodes":[{"match":{"mac":"52:54:00:AB:CD:EF"},"hostname":"n1","role":"head"}]}"#
        let section = try JSONDecoder().decode(NodeConfig.ClusterSection.self, from: Data(json.utf8))
        #expect(section.nodes?.first?.role == .head)
        let resolved = try NodeConfig.resolve(section: section, facts: Self.facts)
        #expect(resolved.hostname.value == "n1")
    }
}
