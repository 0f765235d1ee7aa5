import ClusterControl
import Foundation
import Qemu
import Testing
import TestSupport
import VirtualCluster

/// A cluster from one ISO: node1 boots it and becomes the head (clusterd-head.service: proxy DHCP
/// and TFTP through dnsmasq, HTTP, all from its own boot medium, beside the cluster network's
/// DHCP server; clusterd-share.service: /home over NFS); node2 (SeaBIOS) and node3 (OVMF) have no
/// disk and boot from node1 over the network. Each mounts the head's /home, all three list each
/// other alive, and a job started on the head moves to a diskless node and back with its state
/// intact.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root: network namespaces and taps"))
struct PxeClusterTests {
    static let runDirectory = Repository.root + "/.build/pxe-cluster-test"

    @Test func disklessNodesBootFromTheHeadAndRunMigratedJobs() async throws {
        let image = try await Fixtures.shared.image("cluster")
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
        for (node, firmware) in [("node2", "bios"), ("node3", "uefi")] {
            let root = try await MigrationTests.shell(cluster, node, "findmnt -n -o FSTYPE /; findmnt -n -o SOURCE /run/live/rootfs; grep -o 'fetch=[^ ]*' /proc/cmdline; test -d /sys/firmware/efi && echo uefi || echo bios")
            #expect(root.contains("overlay") && root.contains("/dev/loop"), "\(node) runs from the squashfs in RAM: \(root)")
            #expect(root.contains("fetch=http://10.77.0."), "\(node) fetched its root from the head: \(root)")
            #expect(root.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix(firmware), "\(node) booted with \(firmware) firmware: \(root)")
        }
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
