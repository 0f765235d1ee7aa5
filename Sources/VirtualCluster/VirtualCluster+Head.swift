extension VirtualCluster {
    /// Makes `node` the cluster's head, as `cluster.role=head` does at boot: runs
    /// `clusterd configure` again with that parameter added (it leaves the marker that starts
    /// clusterd-head.service, `clusterd serve-boot`: proxy DHCP and TFTP through dnsmasq, HTTP,
    /// all from the node's boot medium; and the share setting of clusterd-share.service, which
    /// exports /home over NFS), starts those services, restarts the agent (which then admits
    /// diskless nodes: `cluster.admission`), and waits until it serves TFTP.
    /// For ``up(_:timeout:logger:beforeNetworkBoot:onEvent:)``'s `beforeNetworkBoot`.
    public static func makeHead(_ cluster: Controller, node: String = "node1", deadline: Duration = .seconds(120)) async throws {
        // clusterd-share started at boot as a member, looking for a head to mount from: restart
        // it, or it keeps looking (it reads its role once). With the faster boot, it always had.
        let command = #"clusterd configure --kernel-command-line "$(cat /proc/cmdline) cluster.role=head" && systemctl start clusterd-head && systemctl restart clusterd-share clusterd"#
        let start = try await cluster.exec(node, command: command, timeout: .seconds(120))
        guard start.exitCode == 0 else {
            throw Error(.exec, "\(node): starting clusterd-head failed: \(String(decoding: start.standardError, as: UTF8.self))")
        }
        let end = ContinuousClock.now + deadline
        while ContinuousClock.now < end {
            let probe = try? await cluster.exec(node, command: "ss -lnu", timeout: .seconds(60))
            if let probe, String(decoding: probe.standardOutput, as: UTF8.self).contains(":69 ") { return }
            try await Task.sleep(for: .seconds(1))
        }
        let journal = try? await cluster.exec(node, command: "journalctl -b --no-pager -u clusterd-head | tail -20", timeout: .seconds(60))
        throw Error(.boot, "\(node) does not serve TFTP \(deadline) after clusterd-head started; its journal:\n\(journal.map { String(decoding: $0.standardOutput, as: UTF8.self) } ?? "(no answer)")")
    }
}
