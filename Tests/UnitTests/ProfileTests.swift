import Foundation
import Testing
@testable import Profile

@Suite struct ProfileTests {
    @Test func minimalProfileGetsDefaults() throws {
        let profile = try ProfileFixtures.load("{\"name\": \"mini\", \"base\": {\"debian\": {}}}")
        #expect(profile.name == "mini")
        #expect(profile.description == nil)
        #expect(profile.base == .debian(Profile.Debian(
            suite: "trixie", mirror: "http://deb.debian.org/debian", components: ["main"], variant: .minbase,
            packages: [], recommends: false, architecture: .amd64)))
        #expect(profile.overlays.isEmpty && profile.permissions.isEmpty && profile.files.isEmpty)
        #expect(profile.kernel == Profile.Kernel(cmdline: []))
        #expect(profile.boot == Profile.Boot(timeout: 5, entries: [Profile.BootEntry(label: "Live", cmdline: [])], serial: nil))
        #expect(profile.squashfs == Profile.SquashfsSettings(compression: .zstd, level: nil, blockSize: 131_072))
        #expect(profile.outputs == [.iso])
        #expect(profile.cluster == nil)
        #expect(profile.sourcePath == "/work/profiles/x.json")
        #expect(profile.sources == ["/work/profiles/x.json"])
    }

    static let everyKey = """
        {
          "$schema": "../profiles/schema.json",
          "name": "full-1.0_x",
          "description": "Every key",
          "base": {"debian": {
            "suite": "bookworm", "mirror": "https://mirror.example/debian", "components": ["main", "contrib", "main"],
            "variant": "apt", "packages": ["linux-image-amd64", "systemd-sysv", "vim=2:9.0", "linux-image-amd64"],
            "recommends": true, "architecture": "amd64"
          }},
          "overlays": ["overlay", "/work/profiles/empty-overlay/"],
          "permissions": {
            "/etc/shadow": {"mode": "0640", "owner": "root", "group": "shadow"},
            "/usr/bin/su/": {"mode": "4755"},
            "/srv": {"owner": 1000, "group": 1000}
          },
          "files": [
            {"path": "/etc/hostname", "content": "live\\n"},
            {"path": "/usr/local/bin/hello", "content": "#!/bin/sh\\necho hi\\n", "mode": "755", "owner": "nobody", "group": 65534}
          ],
          "kernel": {"cmdline": ["quiet", "console=ttyS0,115200"]},
          "boot": {
            "timeout": 0,
            "entries": [{"label": "Live"}, {"label": "Live (safe mode)", "cmdline": ["nomodeset"]}],
            "serial": {"port": 1, "speed": 9600}
          },
          "squashfs": {"compression": "xz", "level": 9, "blockSize": 1048576},
          "outputs": ["iso", "pxe", "disk"],
          "disk": {"format": "qcow2", "persistence": "2GiB", "margin": 20},
          "pxe": {"root": "nfs", "nodes": [{"mac": "52-54-00-AB-CD-EF", "root": "http"}]},
          "cluster": {"name": "lab", "role": "head", "key": "lab.key", "port": 7000, "multicast": false, "multicastGroup": "239.1.2.3",
                      "peers": ["10.0.0.1", "10.0.0.2:7001"], "sshAuthorizedKeys": ["ssh-ed25519 AAAA admin"], "labels": {"rack": "1"},
                      "nodes": [{"match": {"mac": "52-54-00-AB-CD-EF"}, "hostname": "n1", "role": "node", "address": "10.0.0.5/24",
                                 "gateway": "10.0.0.1", "labels": {"gpu": "yes"}}, {"match": {"serial": "SN1"}}],
                      "timing": {"protocolPeriodMs": 500, "probeTimeoutMs": 200, "indirectProbes": 2, "suspicionTimeoutMs": 2000,
                                 "gossipFanout": 4, "retransmitMultiplier": 3}}
        }
        """

    @Test func parsesEveryKey() throws {
        let profile = try ProfileFixtures.load(Self.everyKey)
        #expect(profile.name == "full-1.0_x")
        #expect(profile.description == "Every key")
        #expect(profile.base == .debian(Profile.Debian(
            suite: "bookworm", mirror: "https://mirror.example/debian", components: ["main", "contrib"], variant: .apt,
            packages: ["linux-image-amd64", "systemd-sysv", "vim=2:9.0"], recommends: true, architecture: .amd64)))
        #expect(profile.overlays == [Profile.Overlay(path: "/work/profiles/overlay"), Profile.Overlay(path: "/work/profiles/empty-overlay")])
        #expect(profile.permissions == [
            Profile.Permission(
                path: "/etc/shadow", mode: Profile.FileMode(octal: "0640"), owner: .name("root"), group: .name("shadow")),
            Profile.Permission(path: "/srv", owner: .id(1000), group: .id(1000)),
            Profile.Permission(path: "/usr/bin/su", mode: Profile.FileMode(rawValue: 0o4755)),
        ])
        #expect(profile.files == [
            Profile.InlineFile(path: "/etc/hostname", content: "live\n"),
            Profile.InlineFile(
                path: "/usr/local/bin/hello", content: "#!/bin/sh\necho hi\n", mode: try #require(Profile.FileMode(octal: "0755")),
                owner: .name("nobody"), group: .id(65534)),
        ])
        #expect(profile.kernel.cmdline == ["quiet", "console=ttyS0,115200"])
        #expect(profile.boot == Profile.Boot(
            timeout: 0,
            entries: [Profile.BootEntry(label: "Live"), Profile.BootEntry(label: "Live (safe mode)", cmdline: ["nomodeset"])],
            serial: Profile.Serial(port: 1, speed: 9600)))
        #expect(profile.squashfs == Profile.SquashfsSettings(compression: .xz, level: 9, blockSize: 1_048_576))
        #expect(profile.outputs == [.iso, .pxe, .disk])
        #expect(profile.disk == Profile.Disk(format: .qcow2, persistenceBytes: 2 << 30, marginPercent: 20))
        #expect(profile.pxe == Profile.Pxe(root: .nfs, nodes: [.init(mac: "52:54:00:ab:cd:ef", root: .http)]))
        #expect(profile.pxe.root(forMAC: "52:54:00:AB:CD:EF") == .http && profile.pxe.root(forMAC: "52:54:00:00:00:01") == .nfs)
        #expect(profile.cluster?["role"] == .string("head"))
        #expect(profile.cluster?["peers"] == .array([.string("10.0.0.1"), .string("10.0.0.2:7001")]))
        #expect(profile.cluster?["timing"]?["protocolPeriodMs"]?.intValue == 500)
        #expect(profile.clusterKeyPath == "/work/profiles/lab.key")
    }

    @Test(arguments: [
        ("{\"tarball\": \"rootfs.tar\"}", Profile.Base.tarball(Profile.Tarball(path: "/work/profiles/rootfs.tar"))),
        ("{\"tarball\": {\"path\": \"./rootfs.tar\"}}", .tarball(Profile.Tarball(path: "/work/profiles/rootfs.tar"))),
        ("{\"tarball\": {\"path\": \"/work/profiles/rootfs.tar\"}}", .tarball(Profile.Tarball(path: "/work/profiles/rootfs.tar"))),
        ("{\"oci\": {\"path\": \"oci-layout\"}}", .oci(Profile.OCI(path: "/work/profiles/oci-layout"))),
        ("{\"oci\": {\"path\": \"rootfs.tar\", \"reference\": \"debian:trixie\"}}",
         .oci(Profile.OCI(path: "/work/profiles/rootfs.tar", reference: "debian:trixie"))),
    ])
    func parsesBaseKinds(base: String, expected: Profile.Base) throws {
        let profile = try ProfileFixtures.load("{\"name\": \"b\", \"base\": \(base)}")
        #expect(profile.base == expected)
    }

    @Test(arguments: Profile.Compression.allCases)
    func acceptsEveryCompressorWithItsLevels(compression: Profile.Compression) throws {
        let levels = compression.levels.map { [$0.lowerBound, $0.upperBound] } ?? []
        for level in levels {
            let profile = try ProfileFixtures.load(
                "{\"name\": \"c\", \"base\": {\"debian\": {}}, \"squashfs\": {\"compression\": \"\(compression.rawValue)\", \"level\": \(level)}}")
            #expect(profile.squashfs.level == level)
        }
        let profile = try ProfileFixtures.load(
            "{\"name\": \"c\", \"base\": {\"debian\": {}}, \"squashfs\": {\"compression\": \"\(compression.rawValue)\", \"blockSize\": 4096}}")
        #expect(profile.squashfs.compression == compression && profile.squashfs.level == nil && profile.squashfs.blockSize == 4096)
    }

    @Test(arguments: [("644", 0o644), ("0644", 0o644), ("4755", 0o4755), ("0000", 0), ("7777", 0o7777)])
    func parsesModes(text: String, bits: UInt16) throws {
        let mode = try #require(Profile.FileMode(octal: text))
        #expect(mode.rawValue == bits)
        #expect(Profile.FileMode(octal: mode.description) == mode)
    }

    @Test(arguments: ["", "64", "0o644", "08", "12345", "-644", "0x1ff", "８８８"])
    func rejectsModes(text: String) {
        #expect(Profile.FileMode(octal: text) == nil)
    }

    @Test func parsesReplaceWrapperWithoutExtends() throws {
        let profile = try ProfileFixtures.load(
            "{\"name\": \"r\", \"base\": {\"debian\": {\"packages\": {\"replace\": [\"vim\"]}}}, \"kernel\": {\"cmdline\": {\"replace\": []}}}")
        guard case .debian(let debian) = profile.base else { Issue.record("not debian"); return }
        #expect(debian.packages == ["vim"])
        #expect(profile.kernel.cmdline.isEmpty)
    }

    // MARK: - Canonical JSON

    @Test func canonicalJSONIsCompactSortedAndComplete() throws {
        let profile = try ProfileFixtures.load("{\"name\": \"mini\", \"base\": {\"tarball\": \"rootfs.tar\"}, \"overlays\": [\"overlay\"]}")
        #expect(profile.canonicalJSON() == """
            {"base":{"tarball":{"path":"rootfs.tar"}},"boot":{"entries":[{"cmdline":[],"label":"Live"}],"timeout":5},\
            "files":[],"kernel":{"cmdline":[]},"name":"mini","outputs":["iso"],"overlays":["overlay"],"permissions":{},\
            "squashfs":{"blockSize":131072,"compression":"zstd"}}
            """)
    }

    @Test func canonicalJSONIsTheSameForEquivalentProfiles() throws {
        let a = try ProfileFixtures.load("{\"name\": \"m\", \"base\": {\"debian\": {}}, \"squashfs\": {}}")
        let b = try ProfileFixtures.load("{\"squashfs\": {\"compression\": \"zstd\", \"blockSize\": 131072},\n \"base\": {\"debian\": {\"suite\": \"trixie\"}}, \"name\": \"m\"}")
        #expect(a.canonicalJSON() == b.canonicalJSON())
        let c = try ProfileFixtures.load("{\"name\": \"m\", \"base\": {\"debian\": {\"packages\": [\"vim\"]}}}")
        #expect(a.canonicalJSON() != c.canonicalJSON())
    }

    @Test func canonicalJSONLoadsBackAsTheSameProfile() throws {
        let profile = try ProfileFixtures.load(Self.everyKey)
        let again = try ProfileFixtures.load(profile.canonicalJSON())
        #expect(again == profile)
        #expect(again.canonicalJSON() == profile.canonicalJSON())
    }

    @Test func canonicalJSONDoesNotDependOnWhereTheCheckoutIs() throws {
        let text = "{\"name\": \"m\", \"base\": {\"tarball\": \"rootfs.tar\"}, \"overlays\": [\"overlay\"]}"
        var moved = InMemoryFileSystem(currentDirectory: "/elsewhere/deep")
        for (path, content) in ProfileFixtures.fileSystem(["x.json": text]).files {
            moved.files["/elsewhere/deep" + path.dropFirst("/work".count)] = content
        }
        let here = try ProfileFixtures.load(text)
        let there = try ProfileLoader.load(path: "profiles/x.json", fileSystem: moved)
        #expect(there.sourcePath == "/elsewhere/deep/profiles/x.json")
        #expect(here.canonicalJSON() == there.canonicalJSON())
    }

    /// The canonical form of the every-key profile, as a golden file
    /// (re-record with `LIVEBUILD_RECORD_GOLDEN=1 swift test --filter ProfileTests`).
    @Test func canonicalJSONGolden() throws {
        let profile = try ProfileFixtures.load(Self.everyKey)
        let golden = ProfileFixtures.repositoryRoot.appendingPathComponent("Tests/UnitTests/Golden/profile-canonical.json")
        let actual = profile.canonicalJSON() + "\n"
        if ProcessInfo.processInfo.environment["LIVEBUILD_RECORD_GOLDEN"] == "1" {
            try actual.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(actual == expected)
    }

    // MARK: - Host files

    @Test func loadsFromDiskWithExtends() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("profile-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let common = root.appendingPathComponent("common")
        let site = root.appendingPathComponent("site")
        for directory in [common.appendingPathComponent("overlay"), site.appendingPathComponent("overlay")] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        try """
            {"name": "common", "base": {"debian": {"packages": ["systemd-sysv"]}}, "overlays": ["overlay"]}
            """.write(to: common.appendingPathComponent("base.json"), atomically: true, encoding: .utf8)
        try """
            {"name": "site", "extends": "../common/base.json", "base": {"debian": {"packages": ["openssh-server"]}},
             "overlays": ["overlay"]}
            """.write(to: site.appendingPathComponent("site.json"), atomically: true, encoding: .utf8)

        let profile = try ProfileLoader.load(path: site.appendingPathComponent("site.json").path)
        #expect(profile.name == "site")
        #expect(profile.overlays.map(\.path) == [common.appendingPathComponent("overlay").path, site.appendingPathComponent("overlay").path])
        #expect(profile.sources == [site.appendingPathComponent("site.json").path, common.appendingPathComponent("base.json").path])
        guard case .debian(let debian) = profile.base else { Issue.record("not debian"); return }
        #expect(debian.packages == ["systemd-sysv", "openssh-server"])

        let error = try #require(throws: ProfileError.self) {
            try ProfileLoader.load(path: root.appendingPathComponent("absent.json").path)
        }
        #expect(error.message.hasSuffix("no such file"))
    }
}
