import ClusterControl
import Foundation
import Qemu
import Testing
import TestSupport
import VirtualCluster

/// `"pxe": {"root": "nfs"}`: node1 boots the ISO and becomes the head, which exports its boot
/// medium read-only over NFSv3 beside the usual TFTP and HTTP; node2 (SeaBIOS, no disk) boots
/// from it with `live.nfs=`, verifies the squashfs once over NFS and runs from it there, with no
/// copy in RAM. Both list each other alive and node2 mounts the head's /home.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root: network namespaces and taps"))
struct NfsRootTests {
    static let runDirectory = Repository.root + "/.build/nfs-root-test"

    @Test func disklessNodeRunsFromTheHeadsMediumOverNFS() async throws {
        let image = try await Fixtures.shared.nfsRootImage()
        try await VirtualCluster.down(runDirectory: Self.runDirectory)
        let started = ContinuousClock.now
        let cluster = try await VirtualCluster.up(
            .init(runDirectory: Self.runDirectory, nodes: [.init(image: image.iso), .network(uefi: false)], memoryMiB: 2048, cpus: 1),
            timeout: .seconds(600),
            beforeNetworkBoot: { cluster in try await VirtualCluster.makeHead(cluster, node: "node1") })
        defer {
            VirtualClusterTests.keepAndScanConsoleLogs(cluster.nodes, prefix: "nfs-root")
            Task { try? await VirtualCluster.down(runDirectory: Self.runDirectory) }
        }
        print("nfs root: the diskless node answering after \(ContinuousClock.now - started)")
        do {
            try await Self.exercise(cluster)
        } catch {
            let journal = (try? await MigrationTests.shell(cluster, "node1", "journalctl -b --no-pager -u clusterd-head -u nfs-server | tail -40")) ?? ""
            Issue.record("NFS root test failed: \(error)\n\(await VirtualClusterTests.agentJournals(cluster))\n--- node1 head journal:\n\(journal)")
        }
        try await VirtualCluster.down(runDirectory: Self.runDirectory)
    }

    static func exercise(_ cluster: VirtualCluster.Controller) async throws {
        let exports = try await MigrationTests.shell(cluster, "node1", "exportfs -v")
        #expect(exports.contains("/run/live/medium") && exports.contains("ro,"), "the head exports its medium read-only: \(exports)")

        let root = try await MigrationTests.shell(cluster, "node2", """
            findmnt -n -o FSTYPE,SOURCE /run/live/medium; findmnt -n -o SOURCE /run/live/rootfs; \
            losetup -n -O BACK-FILE "$(findmnt -n -o SOURCE /run/live/rootfs)"; grep -o 'live.nfs=[^ ]*' /proc/cmdline; \
            findmnt -n /run/live/toram >/dev/null && echo SQUASHFS-IN-RAM; true
            """)
        #expect(root.contains("nfs 10.77.0.") && root.contains(":/run/live/medium"), "node2's medium is the head's, over NFS: \(root)")
        #expect(root.contains("/run/live/medium/live/filesystem.squashfs"), "the root's loop device reads the squashfs on NFS: \(root)")
        #expect(root.contains("live.nfs=10.77.0."), "the menu passed live.nfs= with the head's address: \(root)")
        #expect(!root.contains("SQUASHFS-IN-RAM"), "no copy of the squashfs in RAM: \(root)")
        let console = String(decoding: FileManager.default.contents(atPath: cluster.nodes[1].consoleLog) ?? Data(), as: UTF8.self)
        #expect(console.contains("livebuild-init: squashfs on NFS and verified"), "the init verified the squashfs before use")

        // The root keeps working from NFS: read every file of /usr/share through it.
        let read = try await MigrationTests.shell(cluster, "node2", "find /usr/share -type f -exec cat {} + 2>&1 >/dev/null | head -3; find /usr/share -type f -exec cat {} + | wc -c")
        #expect(!read.contains("Input/output error"), "\(read)")
        let bytes = read.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.last ?? 0
        #expect(bytes > 1_000_000, "read \(bytes) bytes of /usr/share over NFS")

        try await MigrationTests.waitUntil("both agents list each other alive", deadline: .seconds(180)) {
            let nodes = try await MigrationTests.json([Control.Node].self, cluster, "node1", "cluster nodes --json")
            return nodes.count == 2 && nodes.allSatisfy { $0.state == "alive" }
        }
        try await MigrationTests.waitUntil("node2 mounts the head's /home", deadline: .seconds(120)) {
            try await MigrationTests.shell(cluster, "node2", "findmnt -n -o FSTYPE,SOURCE /home || true").contains("nfs4")
        }
    }
}
