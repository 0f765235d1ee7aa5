import ClusterControl
import Foundation
import Qemu
import Testing
import TestSupport
import VirtualCluster

/// A cluster from one ISO: node1 boots it and becomes the head (clusterd-head.service: proxy DHCP
/// and TFTP through dnsmasq, HTTP, and its boot medium read-only over NFSv3, all from its own
/// boot medium, beside the cluster network's DHCP server; clusterd-share.service: /home over
/// NFS); node2 (SeaBIOS) and node3 (OVMF) have no disk and boot from node1 over the network.
/// The ISO is the default profile with `"pxe": {"root": "nfs"}`: the diskless nodes load kernel
/// and initramfs over HTTP and run from the head's squashfs over NFS, verified once, with no
/// copy in RAM (the HTTP root into RAM is PxeBootTests' and ServeTests'). Each mounts the head's
/// /home, all three list each other alive, and a job started on the head moves to a diskless
/// node and back with its state intact.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root: network namespaces and taps"))
struct PxeClusterTests {
    static let runDirectory = Repository.root + "/.build/pxe-cluster-test"

    @Test func disklessNodesBootFromTheHeadAndRunMigratedJobs() async throws {
        let image = try await Fixtures.shared.nfsRootImage()
        try await VirtualCluster.down(runDirectory: Self.runDirectory)
        let started = ContinuousClock.now
        let headReady = LockedBox<Duration?>(nil)
        let cluster = try await VirtualCluster.up(
            .init(runDirectory: Self.runDirectory,
                  nodes: [.init(image: image.iso), .network(uefi: false), .network(uefi: true)],
                  memoryMiB: 2048, cpus: 1),
            timeout: .seconds(600),
            beforeNetworkBoot: { cluster in
                // What `cluster.role=head` (a kernel parameter or a node rule of the profile)
                // makes clusterd configure do at boot.
                try await VirtualCluster.makeHead(cluster, node: "node1")
                headReady.value = ContinuousClock.now - started
            })
        defer {
            VirtualClusterTests.keepAndScanConsoleLogs(cluster.nodes, prefix: "pxe-cluster")
            Task { try? await VirtualCluster.down(runDirectory: Self.runDirectory) }
        }
        print("pxe cluster: head serving after \(headReady.value.map { "\($0)" } ?? "?"), the diskless nodes answering after \(ContinuousClock.now - started)")
        do {
            try await Self.exercise(cluster)
        } catch {
            let journal = (try? await MigrationTests.shell(cluster, "node1", "journalctl -b --no-pager -u clusterd-head | tail -40")) ?? ""
            Issue.record("PXE cluster test failed: \(error)\n\(await VirtualClusterTests.agentJournals(cluster))\n--- node1 head journal:\n\(journal)")
        }
        try await VirtualCluster.down(runDirectory: Self.runDirectory)
    }

    static func exercise(_ cluster: VirtualCluster.Controller) async throws {
        let exports = try await MigrationTests.shell(cluster, "node1", "exportfs -v")
        #expect(exports.contains("/run/live/medium") && exports.contains("ro,"), "the head exports its medium read-only: \(exports)")
        for (index, node, firmware) in [(1, "node2", "bios"), (2, "node3", "uefi")] {
            let root = try await MigrationTests.shell(cluster, node, """
                findmnt -n -o FSTYPE /; findmnt -n -o FSTYPE,SOURCE /run/live/medium; \
                losetup -n -O BACK-FILE "$(findmnt -n -o SOURCE /run/live/rootfs)"; grep -o 'live.nfs=[^ ]*' /proc/cmdline; \
                findmnt -n /run/live/toram >/dev/null && echo SQUASHFS-IN-RAM; test -d /sys/firmware/efi && echo uefi || echo bios
                """)
            #expect(root.hasPrefix("overlay"), "\(node)'s root is an overlay: \(root)")
            #expect(root.contains("nfs 10.77.0.") && root.contains(":/run/live/medium"), "\(node)'s medium is the head's, over NFS: \(root)")
            #expect(root.contains("/run/live/medium/live/filesystem.squashfs"), "\(node)'s root reads the squashfs on NFS through a loop device: \(root)")
            #expect(root.contains("live.nfs=10.77.0."), "the head's menu passed live.nfs= with its address: \(root)")
            #expect(!root.contains("SQUASHFS-IN-RAM"), "no copy of the squashfs in RAM on \(node): \(root)")
            #expect(root.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix(firmware), "\(node) booted with \(firmware) firmware: \(root)")
            let console = String(decoding: FileManager.default.contents(atPath: cluster.nodes[index].consoleLog) ?? Data(), as: UTF8.self)
            #expect(console.contains("livebuild-init: squashfs on NFS and verified"), "\(node)'s init verified the squashfs before use")
        }
        // The root keeps working from NFS: read a few thousand files of /usr/share through it.
        let read = try await MigrationTests.shell(cluster, "node2", "find /usr/share -type f -print0 | head -z -n 3000 | xargs -0 cat 2>&1 >/dev/null | head -3; find /usr/share -type f -print0 | head -z -n 3000 | xargs -0 cat | wc -c")
        #expect(!read.contains("Input/output error"), "\(read)")
        let bytes = read.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.last ?? 0
        #expect(bytes > 1_000_000, "read \(bytes) bytes of /usr/share over NFS")
        try await MigrationTests.waitUntil("all three agents list each other alive", deadline: .seconds(180)) {
            let nodes = try await MigrationTests.json([Control.Node].self, cluster, "node1", "cluster nodes --json")
            return nodes.count == 3 && nodes.allSatisfy { $0.state == "alive" }
        }

        // Shared storage: the head's /home (a tmpfs, exported over NFS) on every node.
        let headHome = try await MigrationTests.shell(cluster, "node1", "findmnt -n -o FSTYPE /home; exportfs -v")
        #expect(headHome.hasPrefix("tmpfs") && headHome.contains("/home") && headHome.contains("10.77.0.0/24"), "the head exports /home: \(headHome)")
        for node in ["node2", "node3"] {
            try await MigrationTests.waitUntil("\(node) mounts the head's /home", deadline: .seconds(120)) {
                try await MigrationTests.shell(cluster, node, "findmnt -n -o FSTYPE,SOURCE /home || true").contains("nfs4")
            }
            let server = try await MigrationTests.shell(cluster, node, "systemctl is-active nfs-server || true")
            #expect(server.contains("inactive"), "only the head runs the NFS server; \(node): \(server)")
        }
        // A node that knows no server (booted from its own medium) mounts from the member that
        // announces it exports the directory: the same command, on a scratch mount point.
        let heads = try await MigrationTests.json([Control.Node].self, cluster, "node3", "cluster nodes --json").filter { $0.sharesDirectory == true }
        #expect(heads.map(\.hostname) == ["node-4c4201"], "only the head announces the shared directory: \(heads)")
        let discovered = try await MigrationTests.shell(cluster, "node3", "echo 'discover /mnt/discovered' > /run/discover-test && timeout 120 clusterd share --file /run/discover-test && findmnt -n -o FSTYPE /mnt/discovered && umount /mnt/discovered")
        #expect(discovered.contains("exports /mnt/discovered") && discovered.contains("nfs4"), "discovery mounts the head's export: \(discovered)")
        _ = try await MigrationTests.shell(cluster, "node2", "echo written-on-node2 > /home/shared-test && sync")
        for node in ["node1", "node3"] {
            let seen = try await MigrationTests.shell(cluster, node, "cat /home/shared-test")
            #expect(seen.contains("written-on-node2"), "\(node) sees node2's file in the shared /home: \(seen)")
        }
        for node in ["node1", "node2", "node3"] { _ = try await MigrationTests.shell(cluster, node, "cluster balance off") }

        // A job started on the head moves to a diskless node and back, as in MigrationTests.
        try await MigrationTests.write(MigrationTests.stateJob, to: "/tmp/state.py", on: "node1", cluster)
        let id = try await MigrationTests.run(cluster, "node1", "cd /tmp && cluster run -- python3 /tmp/state.py")
        try await MigrationTests.waitUntil("the state job prints", deadline: .seconds(120)) {
            try await MigrationTests.shell(cluster, "node1", "cluster logs \(id) | wc -l").trimmingCharacters(in: .whitespacesAndNewlines) != "0"
        }
        let there = try await MigrationTests.json(Control.MigrationReport.self, cluster, "node1", "cluster migrate --json \(id) node-4c4202")
        print("pxe cluster: 200 MB job head → diskless node2 (SeaBIOS) in \(there.totalSeconds) s (freeze \(there.dumpSeconds) s)")
        try await Task.sleep(for: .seconds(2))
        let back = try await MigrationTests.json(Control.MigrationReport.self, cluster, "node1", "cluster migrate --json \(id) home")
        print("pxe cluster: back to the head in \(back.totalSeconds) s (freeze \(back.dumpSeconds) s)")
        try await Task.sleep(for: .seconds(2))
        let job = try #require(try await MigrationTests.json([Control.Job].self, cluster, "node2", "cluster ps --json").first { $0.id == id })
        #expect(job.state == "running" && job.currentNode == "node-4c4201" && job.migrations == 2 && job.namespacePID == 1, "\(job)")
        let rows = try await MigrationTests.shell(cluster, "node1", "cluster logs \(id)").split(separator: "\n").map { $0.split(separator: " ") }
        var previous = 0
        for row in rows {
            guard row.count == 3, let counter = Int(row[0]) else { Issue.record("unexpected line \(row)"); break }
            #expect(counter == previous + 1, "the counter went \(previous) → \(counter): a gap or a restart")
            previous = counter
        }
        #expect(Set(rows.map { $0.count > 1 ? String($0[1]) : "" }).count == 1, "the checksum changed")
        _ = try await MigrationTests.shell(cluster, "node1", "cluster kill \(id)")
    }
}
