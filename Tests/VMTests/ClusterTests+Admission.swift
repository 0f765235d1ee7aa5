import ClusterControl
import Foundation
import Testing
import TestSupport
import VirtualCluster

/// The trust model on the booted cluster (Docs/security.md): the head got the cluster key from
/// its ISO's key image, outside the squashfs, and serves neither; the diskless nodes boot
/// without it and wait, listed by the head with their MAC and serial, until root on the head
/// admits them. Then each holds the same key, root's alone.
extension ClusterTests {
    static func checkAdmission(_ cluster: VirtualCluster.Controller) async throws {
        // The head: its key came from the medium (the live init's message), the squashfs (the
        // root's lower layer) holds none, and what it serves is the PXE tree alone.
        let headKey = try await Guest.shell(cluster, "node1", """
            stat -c '%a %U' /etc/livebuild/cluster.key; test -e /run/live/rootfs/etc/livebuild/cluster.key && echo KEY-IN-SQUASHFS; \
            ls /run/livebuild/served-tree | tr '\\n' ' '; echo; sha256sum < /etc/livebuild/cluster.key
            """)
        let headLines = headKey.split(separator: "\n").map(String.init)
        #expect(headLines.first == "600 root", "the head's key is root's alone: \(headKey)")
        #expect(!headKey.contains("KEY-IN-SQUASHFS"), "the squashfs holds no key: \(headKey)")
        #expect(headLines.count > 1 && headLines[1].contains("boot.ipxe") && headLines[1].contains("live") && !headLines[1].contains("livebuild"),
                "the head serves its PXE tree, not the key image: \(headKey)")
        let headConsole = String(decoding: FileManager.default.contents(atPath: cluster.nodes[0].consoleLog) ?? Data(), as: UTF8.self)
        #expect(headConsole.contains("livebuild-init: cluster key from the boot medium installed"))

        // Over the network, from a diskless node: the kernel yes, the key image no.
        let headAddress = try await dhcpAddress(cluster, "node1")
        func status(_ path: String) async throws -> String {
            try await Guest.run(cluster, "node2", """
                timeout 20 bash -c 'exec 3<>/dev/tcp/\(headAddress)/80; printf "HEAD \(path) HTTP/1.0\\r\\nHost: head\\r\\n\\r\\n" >&3; head -n 1 <&3'
                """)
        }
        let kernel = try await status("/live/vmlinuz")
        let keyImage = try await status("/livebuild/cluster-key.img")
        #expect(kernel.contains(" 200"), "the head serves the kernel over HTTP: \(kernel)")
        #expect(keyImage.contains(" 404"), "the head never serves the key image: \(keyImage)")

        // The diskless nodes wait: no key, no agent listening, and the head lists them.
        let diskless = cluster.nodes.filter { $0.networkBoot == true }
        for node in diskless {
            let state = try await Guest.shell(cluster, node.name, "test -e /etc/livebuild/cluster.key && echo HAS-KEY; test -S /run/clusterd/control.sock && echo AGENT-UP; true")
            #expect(state.isEmpty, "\(node.name) has no key and no agent before it is admitted: \(state)")
        }
        var pending: [Control.Admission] = []
        let macs = Set(diskless.map(\.mac))
        try await Guest.waitUntil("the head lists \(macs.sorted()) waiting", deadline: .seconds(120)) {
            pending = try await Guest.json([Control.Admission].self, cluster, "node1", "cluster pending --json")
            return Set(pending.filter { $0.state == .waiting }.flatMap(\.macs)).isSuperset(of: macs)
        }
        for node in diskless {
            let entry = pending.first { $0.macs.contains(node.mac) }
            #expect(entry?.serial == node.name && entry?.fingerprint.isEmpty == false, "the head shows \(node.name)'s serial and key fingerprint: \(String(describing: entry))")
        }
        // Only root decides; a member of the cluster group may look.
        let member = try await cluster.exec("node1", command: "setpriv --reuid=65534 --regid=\"$(getent group cluster | cut -d: -f3)\" --clear-groups cluster admit all")
        #expect(member.exitCode != 0 && Guest.text(member.standardError).contains("only root"), "a group member cannot admit: \(Guest.text(member.standardError))")

        let started = ContinuousClock.now
        let admitted = try await VirtualCluster.admit(cluster, head: "node1", nodes: diskless, deadline: .seconds(60))
        #expect(Set(admitted.flatMap(\.macs)).isSuperset(of: macs) && admitted.allSatisfy { $0.decidedBy == "root" }, "\(admitted)")
        // Each node gets the same key, sealed to its own key pair, and shows the fingerprint the
        // administrator compared.
        for node in diskless {
            try await Guest.waitUntil("\(node.name) holds the cluster key", deadline: .seconds(60)) {
                try await Guest.shell(cluster, node.name, "test -e /etc/livebuild/cluster.key && echo yes || true").contains("yes")
            }
            let key = try await Guest.shell(cluster, node.name, "stat -c '%a %U' /etc/livebuild/cluster.key; sha256sum < /etc/livebuild/cluster.key")
            #expect(key == "600 root\n" + (headLines.last ?? "?") + "\n", "\(node.name) holds the head's key, root's alone: \(key)")
            let fingerprint = admitted.first { $0.macs.contains(node.mac) }?.fingerprint ?? "?"
            let journal = try await Guest.shell(cluster, node.name, "journalctl -b --no-pager -u clusterd | grep -c 'fingerprint \(fingerprint)' || true")
            #expect((Int(journal.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0, "\(node.name)'s journal shows the fingerprint the head listed (\(fingerprint))")
        }
        print("cluster: the head admitted \(diskless.count) diskless nodes; each held the key \(ContinuousClock.now - started) after `cluster admit`")
    }
}
