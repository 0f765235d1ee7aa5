import Filesystem
import Foundation
import NodeConfig
import Testing
@testable import LiveBuild
@testable import Profile

/// What `livebuild make` adds for a `cluster` section: the key file, the agent binaries and the
/// files of the node-runtime layer.
@Suite struct NodeRuntimeTests {
    static func scratch() throws -> String {
        let path = URL(fileURLWithPath: NSTemporaryDirectory() + "/livebuild-runtime-\(UUID().uuidString)").standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func keyIsGeneratedOnceWithMode0600AndReused() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = ClusterKeyFile.defaultPath(output: directory + "/out/cluster", clusterName: "lab")
        #expect(path == directory + "/out/lab.cluster.key")
        try FileManager.default.createDirectory(atPath: directory + "/out", withIntermediateDirectories: true)
        let first = try ClusterKeyFile.readOrGenerate(path)
        #expect(first.generated)
        #expect(first.text.count == 65 && first.fingerprint.count == 16)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let second = try ClusterKeyFile.readOrGenerate(path)
        #expect(!second.generated && second.text == first.text && second.fingerprint == first.fingerprint)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/out") == ["lab.cluster.key"])
    }

    @Test func badKeyFileIsExplained() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("short\n".utf8).write(to: URL(fileURLWithPath: directory + "/k"))
        let error = #expect(throws: LiveBuildError.self) { try ClusterKeyFile.read(directory + "/k", origin: "cluster.key") }
        #expect(error?.message.contains("64 hex digits") == true && error?.message.contains("cluster.key") == true)
    }

    @Test func dynamicallyLinkedAgentIsRefused() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let elf = Data([0x7f, 0x45, 0x4c, 0x46]) + Data("....libswiftCore.so....".utf8)
        for name in ["clusterd", "cluster"] {
            _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: elf, attributes: [.posixPermissions: 0o755])
        }
        let error = #expect(throws: LiveBuildError.self) { try AgentBinaries.locate(in: [directory, directory + "/missing"]) }
        #expect(error?.message.contains("make agent") == true && error?.message.contains("--static-swift-stdlib") == true)

        let staticELF = Data([0x7f, 0x45, 0x4c, 0x46]) + Data(repeating: 0, count: 64)
        let good = directory + "/good"
        try FileManager.default.createDirectory(atPath: good, withIntermediateDirectories: true)
        for name in ["clusterd", "cluster"] {
            _ = FileManager.default.createFile(atPath: good + "/" + name, contents: staticELF, attributes: [.posixPermissions: 0o755])
        }
        #expect(try AgentBinaries.locate(in: [directory, good]) == AgentBinaries(clusterd: good + "/clusterd", cluster: good + "/cluster"))
    }

    @Test func candidatesIncludeTheRepositorysAgentBuild() {
        let candidates = AgentBinaries.candidateDirectories(
            environment: ["LIVEBUILD_AGENT_DIR": "/opt/agent"], executable: "/src/livebuild/.build/x86_64-unknown-linux-gnu/debug/livebuild")
        #expect(candidates == ["/opt/agent", "/src/livebuild/.build/x86_64-unknown-linux-gnu/debug",
                               "/src/livebuild/.build-agent/release", "/usr/lib/livebuild"])
    }

    /// An open admission policy is warned about loudly at build (the agent warns at boot).
    @Test func anOpenAdmissionPolicyIsWarnedAbout() {
        func section(policy: String?) -> NodeConfig.ClusterSection {
            var section = NodeConfig.ClusterSection()
            section.admission = policy.map { NodeConfig.AdmissionPolicy(policy: $0) }
            return section
        }
        #expect(NodeRuntime.warnings(cluster: section(policy: "open")).first?.contains("ANY machine") == true)
        #expect(NodeRuntime.warnings(cluster: section(policy: "manual")).isEmpty)
        #expect(NodeRuntime.warnings(cluster: section(policy: nil)).isEmpty && NodeRuntime.warnings(cluster: nil).isEmpty)
    }

    @Test func layerHoldsBinariesUnitsAndGroupButNeverTheKey() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["clusterd", "cluster"] {
            _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: Data(name.utf8), attributes: [.posixPermissions: 0o755])
        }
        let profile = Profile(name: "n", base: .tarball(.init(path: "/x.tar")), cluster: .object(["name": .string("lab")]), sourcePath: directory + "/n.json")
        let runtime = try #require(try NodeRuntime.prepare(profile: profile, output: directory + "/out/n") {
            AgentBinaries(clusterd: directory + "/clusterd", cluster: directory + "/cluster")
        })
        #expect(runtime.clusterName == "lab" && runtime.key.path == directory + "/out/lab.cluster.key")
        let files = try runtime.files()
        func file(_ path: String) -> InlineFilesSource.File? { files.first { $0.path == path } }
        #expect(file("usr/sbin/clusterd")?.permissions == 0o755 && file("usr/sbin/clusterd")?.content == Array("clusterd".utf8))
        #expect(file("usr/bin/cluster")?.permissions == 0o755)
        // The squashfs is served to the network: the key travels beside it (ClusterKeyImage).
        #expect(file("etc/livebuild/cluster.key") == nil)
        #expect(!files.contains { $0.content.count >= 64 && String(decoding: $0.content, as: UTF8.self).contains(runtime.key.text.prefix(64)) },
                "no file of the layer holds the key's digits")
        #expect(file("usr/lib/sysusers.d/livebuild-cluster.conf").map { String(decoding: $0.content, as: UTF8.self) }?.contains("g cluster -") == true)
        #expect(file("etc/systemd/system/multi-user.target.wants/clusterd.service")?.symlinkTarget == "/usr/lib/systemd/system/clusterd.service")
        #expect(file("etc/systemd/system/sysinit.target.wants/clusterd-config.service")?.symlinkTarget == "/usr/lib/systemd/system/clusterd-config.service")
        let unit = try #require(file("usr/lib/systemd/system/clusterd.service")).content
        #expect(String(decoding: unit, as: UTF8.self).contains("ExecStart=/usr/sbin/clusterd run"))
        #expect(file("etc/systemd/system/multi-user.target.wants/clusterd-share.service")?.symlinkTarget == "/usr/lib/systemd/system/clusterd-share.service")
        #expect(file("etc/systemd/system/multi-user.target.wants/clusterd-ssh-host-keys.service")?.symlinkTarget
                == "/usr/lib/systemd/system/clusterd-ssh-host-keys.service")
        let hostKeysUnit = String(decoding: try #require(file("usr/lib/systemd/system/clusterd-ssh-host-keys.service")).content, as: UTF8.self)
        #expect(hostKeysUnit.contains("Before=ssh.service") && hostKeysUnit.contains("for type in ed25519 ecdsa;"))
        #expect(hostKeysUnit.contains("[ -s \"$$key\" ] ||"), "a key a node kept (persistence) stays")
        let sshdConfig = String(decoding: try #require(file("etc/ssh/sshd_config.d/livebuild-host-keys.conf")).content, as: UTF8.self)
        #expect(sshdConfig.contains("HostKey /etc/ssh/ssh_host_ed25519_key\n") && sshdConfig.contains("HostKey /etc/ssh/ssh_host_ecdsa_key\n"))
        #expect(!sshdConfig.contains("rsa"))
        #expect(!hostKeysUnit.contains("Before=sysinit.target"), "only sshd waits for the keys")
        let shareUnit = String(decoding: try #require(file("usr/lib/systemd/system/clusterd-share.service")).content, as: UTF8.self)
        #expect(shareUnit.contains("Type=exec"), "the head's clusterd share keeps running without holding up the boot")

        // Over a base where nfs-kernel-server enabled its server, the layer's whiteout removes
        // the link (only the head starts it), and the whiteout itself leaves no trace.
        let sink = RecordingSink()
        let base = ListSource([
            ListSource.directory("etc/systemd/system/multi-user.target.wants"),
            (FileEntry(path: "etc/systemd/system/multi-user.target.wants/nfs-server.service", kind: .symlink, permissions: 0o777,
                       linkTarget: "/usr/lib/systemd/system/nfs-server.service"), []),
            (FileEntry(path: "etc/systemd/system/multi-user.target.wants/ssh.service", kind: .symlink, permissions: 0o777,
                       linkTarget: "/usr/lib/systemd/system/ssh.service"), []),
            ListSource.directory("etc/ssh"),
            ListSource.file("etc/ssh/sshd_config", "Port 22\n"),
            ListSource.file("etc/ssh/ssh_host_ed25519_key", "key", mode: 0o600),
            ListSource.file("etc/ssh/ssh_host_ed25519_key.pub", "pub"),
            ListSource.file("etc/ssh/ssh_host_rsa_key", "key", mode: 0o600),
            ListSource.file("etc/ssh/ssh_host_ecdsa_key.pub", "pub"),
        ])
        try LayerStack(layers: [
            Layer(name: "node runtime", source: InlineFilesSource(files: files, mtime: 0), directories: .weak, whiteouts: true),
            Layer(name: "base", source: base, directories: .strong),
        ]).write(to: sink)
        #expect(sink.entries["etc/systemd/system/multi-user.target.wants/nfs-server.service"] == nil)
        #expect(sink.entries["etc/systemd/system/multi-user.target.wants/ssh.service"] != nil)
        #expect(sink.entries["etc/systemd/system/multi-user.target.wants/clusterd-share.service"] != nil)
        #expect(!sink.order.contains { $0.contains(".wh.") })
        // The base's SSH host keys are gone (each node makes its own at boot); the rest of
        // /etc/ssh stays.
        #expect(!sink.order.contains { $0.hasPrefix("etc/ssh/ssh_host_") }, "\(sink.order.filter { $0.hasPrefix("etc/ssh") })")
        #expect(sink.entries["etc/ssh/sshd_config"] != nil && sink.entries["etc/ssh"] != nil)

        #expect(try NodeRuntime.prepare(profile: Profile(name: "n", base: .tarball(.init(path: "/x.tar")), sourcePath: "/n.json"), output: directory) == nil)
    }
}
