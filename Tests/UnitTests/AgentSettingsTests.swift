import ClusterWire
import BootServer
import Foundation
import NodeConfig
import Testing
@testable import Agent
@testable import LiveBuild

/// The agent's pure parts: key and peer parsing, settings with their sources, load sampling
/// and boot configuration, on fake /proc, /sys and root trees.
@Suite struct AgentSettingsTests {
    static let facts = NodeConfig.Facts(interfaces: [.init(name: "enp0s3", mac: "52:54:00:4c:42:01", physical: true)])

    static func resolved(_ section: NodeConfig.ClusterSection = .init(), cmdline: String = "") throws -> NodeConfig.Resolved {
        var facts = Self.facts
        facts.kernelCommandLine = cmdline
        return try NodeConfig.resolve(section: section, facts: facts)
    }

    @Test(arguments: [
        ("10.0.0.5", Wire.Address(host: "10.0.0.5", port: 7946)),
        ("10.0.0.5:8000", Wire.Address(host: "10.0.0.5", port: 8000)),
        ("fd00::5", Wire.Address(host: "fd00::5", port: 7946)),
        ("[fd00::5]:9000", Wire.Address(host: "fd00::5", port: 9000)),
    ])
    func peerAddresses(text: String, expected: Wire.Address) throws {
        #expect(try Agent.PeerAddress.parse(text, defaultPort: 7946) == expected)
    }

    @Test(arguments: ["10.0.0.5:0", "10.0.0.5:http", ":7946", "[fd00::5", "[fd00::5]x", ""])
    func badPeerAddresses(text: String) {
        #expect(throws: Agent.Failure.self) { try Agent.PeerAddress.parse(text, defaultPort: 7946) }
    }

    @Test func clusterKeyIsSixtyFourHexDigits() throws {
        let key = try Agent.ClusterKey.parse(String(repeating: "0f", count: 32) + "\n", path: "k")
        #expect(key == Array(repeating: 0x0f, count: 32))
        let error = #expect(throws: Agent.Failure.self) { try Agent.ClusterKey.parse("abc", path: "/etc/livebuild/cluster.key") }
        #expect(error?.description.contains("openssl rand -hex 32") == true)
    }

    @Test func settingsRecordTheirSources() throws {
        let section = NodeConfig.ClusterSection(name: "lab", port: 7000, timing: .init(protocolPeriodMs: 500))
        let settings = try Agent.SettingsLoader.settings(
            section: section, node: try Self.resolved(section, cmdline: "quiet cluster.hostname=alpha"),
            clusterKey: Array(repeating: 1, count: 32), overrides: .init())
        #expect(settings.nodeID == Wire.NodeID(0x5254_004c_4201))
        #expect(settings.hostname == "alpha")
        #expect(settings.port == 7000)
        #expect(settings.multicastGroup == Agent.defaultMulticastGroup)
        #expect(settings.membership.protocolPeriod == .milliseconds(500))
        #expect(settings.interfaceMAC == "52:54:00:4c:42:01")
        func source(_ name: String) -> String? { settings.report.first { $0.name == name }?.source }
        #expect(source("node-id") == "MAC 52:54:00:4c:42:01 of enp0s3")
        #expect(source("hostname") == "kernel cluster.hostname=alpha")
        #expect(source("cluster") == "profile")
        #expect(source("port") == "profile")
        #expect(source("protocol-period") == "profile")
        #expect(source("probe-timeout") == "default")
    }

    @Test func commandLineOverridesWin() throws {
        let settings = try Agent.SettingsLoader.settings(
            section: .init(), node: try Self.resolved(), clusterKey: Array(repeating: 1, count: 32),
            overrides: .init(nodeID: 7, hostname: "a7", listen: Wire.Address(host: "127.0.0.1", port: 17007),
                             peers: ["127.0.0.1:17001"], multicast: false))
        #expect(settings.nodeID == Wire.NodeID(7))
        #expect(settings.listenHost == "127.0.0.1" && settings.advertiseHost == "127.0.0.1" && settings.port == 17007)
        #expect(settings.peers == [Wire.Address(host: "127.0.0.1", port: 17001)])
        #expect(settings.multicastGroup == nil)
    }

    @Test func noMulticastAndNoPeersIsAnError() throws {
        let section = NodeConfig.ClusterSection(multicast: false)
        let error = #expect(throws: Agent.Failure.self) {
            try Agent.SettingsLoader.settings(section: section, node: try Self.resolved(section), clusterKey: Array(repeating: 1, count: 32), overrides: .init())
        }
        #expect(error?.description.contains("cluster.peers") == true)
    }

    @Test func clusterSectionIsReadFromTheImagesProfile() throws {
        let json = #"{"name": "cluster", "cluster": {"name": "lab", "peers": ["10.0.0.1"], "timing": {"gossipFanout": 5}}}"#
        let section = try Agent.SettingsLoader.clusterSection(profileJSON: Array(json.utf8), path: "/etc/livebuild/profile.json")
        #expect(section.name == "lab" && section.peers == ["10.0.0.1"] && section.timing?.gossipFanout == 5)
        let error = #expect(throws: Agent.Failure.self) {
            try Agent.SettingsLoader.clusterSection(profileJSON: Array(#"{"cluster": {"port": "x"}}"#.utf8), path: "p.json")
        }
        #expect(error?.description.contains("p.json") == true && error?.description.contains(".port") == true)
    }

    @Test func timingIsChecked() {
        #expect(throws: Agent.Failure.self) { try Agent.SettingsLoader.membershipConfiguration(.init(protocolPeriodMs: 100, probeTimeoutMs: 100)) }
        #expect(throws: Agent.Failure.self) { try Agent.SettingsLoader.membershipConfiguration(.init(gossipFanout: 0)) }
    }
}

/// Reading the machine: /proc and /sys from a fake tree.
@Suite struct AgentHostTests {
    static func tree(_ files: [String: String]) throws -> String {
        let root = NSTemporaryDirectory() + "/livebuild-agent-\(UUID().uuidString)"
        for (path, content) in files {
            let url = URL(fileURLWithPath: root + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        return root
    }

    @Test func loadSampleFromProc() throws {
        let root = try Self.tree([
            "/proc/cpuinfo": "processor\t: 0\ncpu MHz\t\t: 2594.123\n\nprocessor\t: 1\ncpu MHz\t\t: 2594.123\n",
            "/proc/loadavg": "1.25 0.50 0.10 2/100 999\n",
            "/proc/meminfo": "MemTotal:       2000000 kB\nMemAvailable:    761234 kB\n",
            "/proc/stat": "cpu  1 2 3\nbtime 1790000000\nprocesses 5\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let load = Agent.LoadSampler(root: root, hostname: "n1").sample(runningJobs: 2, acceptsJobs: true)
        #expect(load == Wire.NodeLoad(cpus: 2, cpuMHz: 2594, loadMilli: 1250, freeMemoryKiB: 761_234, runningJobs: 2,
                                      agentVersion: Agent.version, hostname: "n1", bootTime: 1_790_000_000,
                                      memoryTotalKiB: 2_000_000, acceptsJobs: true))
    }

    @Test func onlyMeaningfulChangesArePublished() {
        let base = Wire.NodeLoad(cpus: 2, loadMilli: 1000, freeMemoryKiB: 1_000_000)
        var small = base
        small.loadMilli = 1040
        small.freeMemoryKiB = 995_000
        #expect(!Agent.LoadSampler.worthPublishing(small, over: base))
        var load = base
        load.loadMilli = 1050
        #expect(Agent.LoadSampler.worthPublishing(load, over: base))
        var jobs = base
        jobs.runningJobs = 1
        #expect(Agent.LoadSampler.worthPublishing(jobs, over: base))
    }

    @Test func factsFromSys() throws {
        let root = try Self.tree([
            "/sys/class/net/enp0s3/address": "52:54:00:4C:42:01\n", "/sys/class/net/enp0s3/type": "1\n",
            "/sys/class/net/enp0s3/device/vendor": "0x1af4\n",
            "/sys/class/net/br0/address": "aa:bb:cc:dd:ee:ff\n", "/sys/class/net/br0/type": "1\n",
            "/sys/class/net/lo/address": "00:00:00:00:00:00\n", "/sys/class/net/lo/type": "772\n",
            "/sys/class/net/sit0/address": "00:00:00:00\n", "/sys/class/net/sit0/type": "776\n",
            "/sys/class/dmi/id/product_serial": "node2\n",
            "/proc/cmdline": "console=ttyS0 cluster.role=head\n",
            "/etc/machine-id": "0123456789abcdef0123456789abcdef\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let facts = Agent.HostFacts.read(root: root)
        #expect(facts.interfaces.map(\.name) == ["br0", "enp0s3"])
        #expect(facts.primary?.name == "enp0s3" && facts.primary?.mac == "52:54:00:4c:42:01")
        #expect(facts.dmiSerial == "node2")
        #expect(facts.kernelCommandLine == "console=ttyS0 cluster.role=head")
        #expect(facts.machineID == "0123456789abcdef0123456789abcdef")
        #expect(facts.chosenMAC == nil)
    }

    /// `clusterd configure` may choose before udev renames the cards: its choice holds for the
    /// boot while that card is there, whatever the names say afterwards.
    @Test func theMACChosenAtBootStaysPrimary() throws {
        let root = try Self.tree([
            "/sys/class/net/enp0s3/address": "52:54:00:4c:42:01\n", "/sys/class/net/enp0s3/type": "1\n",
            "/sys/class/net/enp0s3/device/vendor": "0x1af4\n",
            "/sys/class/net/enp0s8/address": "52:54:00:4c:42:02\n", "/sys/class/net/enp0s8/type": "1\n",
            "/sys/class/net/enp0s8/device/vendor": "0x1af4\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(Agent.HostFacts.read(root: root).primary?.name == "enp0s3", "by name when nothing was chosen")
        let section = NodeConfig.ClusterSection()
        let node = try NodeConfig.resolve(section: section, facts: Agent.HostFacts.read(root: root))
        _ = try Agent.Configurator(root: root, setKernelHostname: false).apply(node, primaryMAC: "52:54:00:4C:42:02")
        #expect(try String(contentsOfFile: root + Agent.Configurator.primaryMACFile, encoding: .utf8) == "52:54:00:4C:42:02\n")
        let facts = Agent.HostFacts.read(root: root)
        #expect(facts.primary?.name == "enp0s8" && facts.hasPhysicalInterface)
        #expect(NodeConfig.nodeIdentity(facts)?.id == 0x5254_004c_4202)
        // The chosen card gone (unplugged, or another boot's file): back to the order by name.
        let gone = NodeConfig.Facts(interfaces: facts.interfaces.filter { $0.name != "enp0s8" }, chosenMAC: "52:54:00:4c:42:02")
        #expect(gone.primary?.name == "enp0s3")
        #expect(!NodeConfig.Facts(interfaces: [.init(name: "br0", mac: "aa:bb:cc:dd:ee:ff", physical: false)]).hasPhysicalInterface)
    }

    @Test func configuratorWritesHostnameStaticAddressAndKeys() throws {
        let root = try Self.tree(["/etc/hosts": "127.0.0.1\tlocalhost\n127.0.1.1\tlivebuild\n::1\tlocalhost\n"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let section = NodeConfig.ClusterSection(
            sshAuthorizedKeys: ["ssh-ed25519 AAAA admin"],
            nodes: [.init(match: .init(mac: "52:54:00:4c:42:01"), hostname: "head", address: "10.0.0.1/24", gateway: "10.0.0.254")])
        let node = try NodeConfig.resolve(section: section, facts: AgentSettingsTests.facts)
        let changes = try Agent.Configurator(root: root, setKernelHostname: false).apply(node, primaryMAC: "52:54:00:4c:42:01")
        #expect(changes.count == 5)
        func read(_ path: String) -> String? { try? String(contentsOfFile: root + path, encoding: .utf8) }
        #expect(read("/etc/hostname") == "head\n")
        #expect(read("/etc/hosts") == "127.0.0.1\tlocalhost\n127.0.1.1\thead\n::1\tlocalhost\n")
        let network = try #require(read(Agent.Configurator.networkFile))
        #expect(network.contains("MACAddress=52:54:00:4c:42:01") && network.contains("Address=10.0.0.1/24") && network.contains("Gateway=10.0.0.254"))
        #expect(read("/root/.ssh/authorized_keys") == "ssh-ed25519 AAAA admin\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: root + "/root/.ssh/authorized_keys")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let directory = try FileManager.default.attributesOfItem(atPath: root + "/root/.ssh")
        #expect((directory[.posixPermissions] as? Int) == 0o700)
    }

    @Test func dhcpWritesNoNetworkFile() throws {
        let root = try Self.tree([:])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let node = try NodeConfig.resolve(section: .init(), facts: AgentSettingsTests.facts)
        let changes = try Agent.Configurator(root: root, setKernelHostname: false).apply(node, primaryMAC: "52:54:00:4c:42:01")
        #expect(changes == ["hostname node-4c4201 (default)", "address by DHCP (default)", "role node (default)",
                            "mounts /home from the member that exports it, once the agent sees one (default)"])
        #expect(!FileManager.default.fileExists(atPath: root + Agent.Configurator.networkFile))
    }

    /// The head's marker starts clusterd-head.service (its ConditionPathExists); a node that is
    /// no longer the head loses it.
    @Test func headRoleLeavesTheMarkerForTheBootServer() throws {
        let root = try Self.tree([:])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let head = try NodeConfig.resolve(
            section: .init(nodes: [.init(match: .init(mac: "52:54:00:4c:42:01"), role: .head)]), facts: AgentSettingsTests.facts)
        let configurator = Agent.Configurator(root: root, setKernelHostname: false)
        let changes = try configurator.apply(head, primaryMAC: "52:54:00:4c:42:01")
        #expect(changes.contains { $0.hasPrefix("role head") })
        #expect(FileManager.default.fileExists(atPath: root + Agent.Configurator.headMarker))
        let node = try NodeConfig.resolve(section: .init(), facts: AgentSettingsTests.facts)
        _ = try configurator.apply(node, primaryMAC: "52:54:00:4c:42:01")
        #expect(!FileManager.default.fileExists(atPath: root + Agent.Configurator.headMarker))
        #expect(NodeRuntime.headUnit.contains("ConditionPathExists=\(Agent.Configurator.headMarker)"))
    }

    /// What clusterd share and serve-boot read: the head exports /home and, with the profile's
    /// range, is the DHCP server; a diskless node mounts /home from its boot server.
    @Test func sharedDirectoryAndDHCPRangeReachTheirServices() throws {
        let root = try Self.tree([:])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let read = { (path: String) in FileManager.default.contents(atPath: root + path).map { String(decoding: $0, as: UTF8.self) } }
        let configurator = Agent.Configurator(root: root, setKernelHostname: false)
        let head = try NodeConfig.resolve(section: .init(role: .head, head: .init(dhcpRange: "10.77.0.10,10.77.0.200")), facts: AgentSettingsTests.facts)
        let changes = try configurator.apply(head, primaryMAC: "52:54:00:4c:42:01")
        #expect(read(Agent.Configurator.shareFile) == "export /home\n")
        #expect(read(Agent.Configurator.dhcpRangeFile) == "10.77.0.10,10.77.0.200\n")
        #expect(changes.contains("exports /home over NFS (default)"))
        #expect(try SharedDirectory(line: "export /home") == .export(path: "/home"))

        var facts = AgentSettingsTests.facts
        facts.kernelCommandLine = "console=ttyS0 fetch=http://10.77.0.99/live/filesystem.squashfs"
        let diskless = try NodeConfig.resolve(section: .init(), facts: facts)
        _ = try configurator.apply(diskless, primaryMAC: "52:54:00:4c:42:01")
        #expect(read(Agent.Configurator.shareFile) == "mount 10.77.0.99 /home\n")
        #expect(read(Agent.Configurator.dhcpRangeFile) == nil && read(Agent.Configurator.headMarker) == nil)
        #expect(NodeRuntime.shareUnit.contains("ConditionPathExists=\(Agent.Configurator.shareFile)"))
    }
}
