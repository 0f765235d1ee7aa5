import Foundation
import LiveBuild
import Logging
import Profile
import Testing
import TestSupport

/// `livebuild inspect` on each kind of input, against golden files, and on damaged images.
///
/// The inputs come from one small build that is the same byte for byte on every run: a
/// hand-made base tarball (a stand-in kernel, two packages, an os-release), fixed stand-ins for
/// the node runtime's binaries and a fixed cluster key, so the report does not change when the
/// Debian mirror or the agent's code does. Re-record with
/// `LIVEBUILD_RECORD_GOLDEN=1 swift test --filter InspectGoldenTests`.
@Suite(.serialized) struct InspectGoldenTests {
    static let root = Repository.root + "/.build/fixtures/inspect"

    /// The build, once per process.
    static let build = Task { try await makeBuild() }

    static func makeBuild() async throws -> String {
        let fileManager = FileManager.default
        try? fileManager.removeItem(atPath: root)
        let tree = root + "/rootfs"
        let files: [String: String] = [
            "boot/vmlinuz-6.1.0-golden": "a stand-in kernel\n",
            "lib/modules/6.1.0-golden/modules.dep": "",
            "lib/modules/6.1.0-golden/modules.builtin": "",
            "usr/bin/busybox": "a stand-in busybox\n",
            "etc/os-release": "PRETTY_NAME=\"Golden Linux 1.0\"\nID=golden\n",
            "var/lib/dpkg/status": """
                Package: golden-base
                Status: install ok installed
                Architecture: amd64
                Version: 1.0-1

                Package: golden-tools
                Status: install ok installed
                Architecture: all
                Version: 2:3.4~rc1

                Package: removed-one
                Status: deinstall ok config-files
                Version: 0.1

                """,
            "agent/clusterd": "#!/bin/sh\necho stand-in clusterd\n",
            "agent/cluster": "#!/bin/sh\necho stand-in cluster\n",
            "golden.key": String(repeating: "0123456789abcdef", count: 4) + "\n",
        ]
        for (path, content) in files {
            let full = (path.hasPrefix("agent/") || path == "golden.key" ? root + "/" : tree + "/") + path
            try fileManager.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(content.utf8).write(to: URL(fileURLWithPath: full))
        }
        try Tool.run(["tar", "--sort=name", "--mtime=@1700000000", "--owner=0", "--group=0", "--numeric-owner",
                      "-C", tree, "-cf", root + "/rootfs.tar", "."])
        let profilePath = root + "/golden.json"
        try Data(#"""
            {
              "name": "golden",
              "description": "The inspect golden fixture",
              "base": {"tarball": "rootfs.tar"},
              "kernel": {"cmdline": ["console=ttyS0,115200"]},
              "boot": {"timeout": 1, "entries": [{"label": "Golden"}, {"label": "Golden (copy to RAM)", "cmdline": ["toram"]}]},
              "outputs": ["iso", "pxe", "disk"],
              "disk": {"format": "raw", "persistence": "16MiB"},
              "cluster": {"name": "golden", "key": "golden.key", "labels": {"rack": "7"}, "multicast": false, "peers": ["10.0.0.1"]}
            }
            """#.utf8).write(to: URL(fileURLWithPath: profilePath))
        var builder = Builder(
            profile: try ProfileLoader.load(path: profilePath), output: root + "/out", cacheDirectory: root + "/cache",
            sourceDateEpoch: Fixtures.sourceDateEpoch, logger: Logger(label: "livebuild.tests"))
        let agent = AgentBinaries(clusterd: root + "/agent/clusterd", cluster: root + "/agent/cluster")
        builder.agentBinaries = { agent }
        try await builder.build()
        return root + "/out"
    }

    static func inspect(_ path: String) async throws -> Inspection {
        try await Inspector(logger: Logger(label: "livebuild.tests")).inspect(path)
    }

    /// The report with the input's path replaced, compared with (or recorded as) the golden file.
    static func checkGolden(_ inspection: Inspection, kind: String) throws {
        var inspection = inspection
        inspection.path = "IMAGE"
        let actual = inspection.text()
        let golden = Repository.root + "/Tests/InteropTests/Golden/inspect-\(kind).txt"
        if ProcessInfo.processInfo.environment["LIVEBUILD_RECORD_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: (golden as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try actual.write(toFile: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: golden, encoding: .utf8)
        #expect(actual == expected, "inspect \(kind) differs from \(golden):\n\(actual)")
    }

    @Test(arguments: ["iso", "disk", "squashfs", "pxe"])
    func matchesTheGoldenReport(kind: String) async throws {
        let out = try await Self.build.value
        let path = switch kind {
        case "iso": out + "/golden.iso"
        case "disk": out + "/golden.img"
        case "squashfs": out + "/live/filesystem.squashfs"
        default: out + "/pxe"
        }
        let inspection = try await Self.inspect(path)
        #expect(inspection.kind.rawValue == kind)
        #expect(inspection.packages.map(\.name) == ["golden-base", "golden-tools"])
        #expect(inspection.kernels == ["6.1.0-golden"])
        // The node configuration is there; the key only by its fingerprint, and only on media
        // handed to a machine (the ISO's and the disk's key image): the squashfs and the PXE
        // tree, which are served to the network, have none.
        #expect(inspection.nodeConfiguration?["labels"]?["rack"] == .string("7"))
        if kind == "iso" || kind == "disk" {
            #expect(inspection.clusterKeyFingerprint?.isEmpty == false)
        } else {
            #expect(inspection.clusterKeyFingerprint == nil)
        }
        #expect(inspection.clusterKeyInSquashfs == nil)
        #expect(!inspection.text().contains("0123456789abcdef0123"))
        // Read where the build left it: its manifest is found and agrees.
        #expect(inspection.build?.sourceDateEpoch == Fixtures.sourceDateEpoch)
        #expect(inspection.build?.digestMatches == (kind == "pxe" ? nil : true))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(inspection)) as? [String: Any]
        #expect(json?["kind"] as? String == kind)
        #expect((json?["packages"] as? [[String: Any]])?.count == 2)
        try Self.checkGolden(inspection, kind: kind)
    }

    @Test func aTruncatedISOIsReportedAsDamaged() async throws {
        let out = try await Self.build.value
        let damaged = Self.root + "/truncated.iso"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out + "/golden.iso"))
        try bytes.prefix(bytes.count * 3 / 4).write(to: URL(fileURLWithPath: damaged))
        let error = try await #require(throws: LiveBuildError.self) { _ = try await Self.inspect(damaged) }
        #expect(error.message.contains("damaged"), "\(error.message)")
        #expect(error.message.contains(damaged) || error.message.contains("squashfs"), "\(error.message)")
    }

    @Test func aCorruptedSquashfsIsReportedAsDamaged() async throws {
        let out = try await Self.build.value
        let damaged = Self.root + "/corrupted.squashfs"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: out + "/live/filesystem.squashfs"))
        // Keep the superblock, wreck the tables behind it (directory, inode, id tables).
        for index in max(96, bytes.count - 8192)..<bytes.count { bytes[index] = 0xA5 }
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let error = try await #require(throws: LiveBuildError.self) { _ = try await Self.inspect(damaged) }
        #expect(error.message.contains("damaged"), "\(error.message)")
    }

    /// A disk image cut short inside its live partition (a stick pulled mid-`dd`): read through
    /// libguestfs, it is named as damaged, never reported from a half-read squashfs.
    @Test func aTruncatedDiskIsReportedAsDamaged() async throws {
        let out = try await Self.build.value
        let damaged = Self.root + "/truncated.img"
        let layout = try #require(try await Self.inspect(out + "/golden.img").partitions.first { $0.filesystem == "squashfs" })
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out + "/golden.img"))
        // Keep the GPT and the ESP, stop 4 KiB into the live partition.
        let start = try #require(Self.partitionStart(bytes, number: layout.number))
        try bytes.prefix(Int(start) + 4096).write(to: URL(fileURLWithPath: damaged))
        let error = try await #require(throws: LiveBuildError.self) { _ = try await Self.inspect(damaged) }
        #expect(error.message.contains("damaged"), "\(error.message)")
        #expect(error.message.contains(damaged), "\(error.message)")
    }

    /// The byte offset of GPT partition `number` (entries from LBA 2, 128 bytes each, first LBA at 32).
    static func partitionStart(_ disk: Data, number: Int) -> UInt64? {
        let entry = 1024 + (number - 1) * 128
        guard disk.count >= entry + 40 else { return nil }
        let lba = (0..<8).reduce(UInt64(0)) { $0 | UInt64(disk[entry + 32 + $1]) << (8 * UInt64($1)) }
        return lba * 512
    }

    @Test func somethingElseIsNamedAsNoImage() async throws {
        let other = NSTemporaryDirectory() + "/livebuild-inspect-notes-\(getpid()).txt"
        defer { try? FileManager.default.removeItem(atPath: other) }
        try Data(String(repeating: "not an image\n", count: 4000).utf8).write(to: URL(fileURLWithPath: other))
        let error = try await #require(throws: LiveBuildError.self) { _ = try await Self.inspect(other) }
        #expect(error.message.contains("is not an ISO 9660 image, a GPT disk image"), "\(error.message)")
        let missing = try await #require(throws: LiveBuildError.self) { _ = try await Self.inspect(other + ".missing.iso") }
        #expect(missing.message.contains("does not exist"))
    }
}
