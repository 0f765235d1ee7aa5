import Foundation
import NodeConfig
import Profile

/// What `livebuild make` adds to an image whose profile has a `cluster` section: the agent and
/// its command line, their systemd units and the `cluster` group (systemd-sysusers). Never the
/// cluster key: the squashfs is served to the network (``ClusterKeyImage``). A layer below the overlays, so a profile can still override a unit; it
/// may hold whiteouts (`.wh.NAME`) that remove a base file.
public struct NodeRuntime: Sendable {
    public var binaries: AgentBinaries
    public var key: ClusterKeyFile
    public var clusterName: String

    /// Resolves the key (the profile's, or generated beside `output`) and finds the binaries;
    /// nil when the profile has no `cluster` section.
    public static func prepare(profile: Profile, output: String, binaries: () throws -> AgentBinaries = { try AgentBinaries.locate() }) throws -> NodeRuntime? {
        guard let section = try section(of: profile) else { return nil }
        let clusterName = section.name ?? NodeConfig.Rules.defaultClusterName
        let key: ClusterKeyFile
        if let path = profile.clusterKeyPath {
            key = try ClusterKeyFile.read(path, origin: "cluster.key")
        } else {
            key = try ClusterKeyFile.readOrGenerate(ClusterKeyFile.defaultPath(output: output, clusterName: clusterName))
        }
        return NodeRuntime(binaries: try binaries(), key: key, clusterName: clusterName)
    }

    /// The profile's `cluster` section as the node reads it (`NodeConfig.ClusterSection`, from
    /// the image's /etc/livebuild/profile.json): the build reads it through the same type.
    public static func section(of profile: Profile) throws -> NodeConfig.ClusterSection? {
        guard let plain = profile.cluster else { return nil }
        do {
            return try JSONDecoder().decode(NodeConfig.ClusterSection.self, from: JSONEncoder().encode(plain))
        } catch {
            throw LiveBuildError(code: .input, message: "the profile's cluster section does not read as the node reads it: \(error)")
        }
    }

    /// Lines the build must say loudly about the profile's `cluster` section: an `open`
    /// admission policy hands the cluster key to any machine that asks the head.
    public static func warnings(cluster section: NodeConfig.ClusterSection?) -> [String] {
        guard section?.admission?.policy == "open" else { return [] }
        return ["WARNING: cluster.admission.policy is \"open\": the head gives the cluster key (root-equivalent on every node for jobs the profile lets peers run) to ANY machine that asks on its network. Use it only on a network nobody else uses; \"manual\" (the default) or \"listed\" otherwise."]
    }

    /// The files of the layer.
    public func files() throws -> [InlineFilesSource.File] {
        func load(_ path: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw LiveBuildError(code: .input, message: "cannot read \(path)")
            }
            return Array(data)
        }
        return [
            .init(path: "usr/sbin/clusterd", content: try load(binaries.clusterd), permissions: 0o755),
            .init(path: "usr/bin/cluster", content: try load(binaries.cluster), permissions: 0o755),
            // `make SHELL=cluster-sh`, `xargs cluster-sh -c`: `cluster sh` under the one name they take.
            .init(symlink: "usr/bin/cluster-sh", target: "cluster"),
            .init(path: "usr/lib/systemd/system/clusterd.service", content: Array(Self.agentUnit.utf8), permissions: 0o644),
            .init(path: "usr/lib/systemd/system/clusterd-config.service", content: Array(Self.configUnit.utf8), permissions: 0o644),
            .init(path: "usr/lib/systemd/system/clusterd-head.service", content: Array(Self.headUnit.utf8), permissions: 0o644),
            .init(path: "usr/lib/systemd/system/clusterd-share.service", content: Array(Self.shareUnit.utf8), permissions: 0o644),
            .init(path: "usr/lib/systemd/system/clusterd-ssh-host-keys.service", content: Array(Self.sshHostKeysUnit.utf8), permissions: 0o644),
            .init(path: "etc/ssh/sshd_config.d/livebuild-host-keys.conf", content: Array(Self.sshHostKeysConfig.utf8), permissions: 0o644),
            .init(path: "usr/lib/sysusers.d/livebuild-cluster.conf", content: Array(Self.sysusers.utf8), permissions: 0o644),
            .init(symlink: "etc/systemd/system/multi-user.target.wants/clusterd.service",
                  target: "/usr/lib/systemd/system/clusterd.service"),
            .init(symlink: "etc/systemd/system/multi-user.target.wants/clusterd-head.service",
                  target: "/usr/lib/systemd/system/clusterd-head.service"),
            .init(symlink: "etc/systemd/system/multi-user.target.wants/clusterd-share.service",
                  target: "/usr/lib/systemd/system/clusterd-share.service"),
            // nfs-kernel-server enables its server (and with it mountd, idmapd, nfsdcld) on every
            // node; only the head serves, and `clusterd share` starts it there. A whiteout: this
            // layer removes the base's symlink.
            .init(path: "etc/systemd/system/multi-user.target.wants/.wh.nfs-server.service", content: [], permissions: 0o644),
            .init(symlink: "etc/systemd/system/sysinit.target.wants/clusterd-config.service",
                  target: "/usr/lib/systemd/system/clusterd-config.service"),
            .init(symlink: "etc/systemd/system/multi-user.target.wants/clusterd-ssh-host-keys.service",
                  target: "/usr/lib/systemd/system/clusterd-ssh-host-keys.service"),
        ] + Self.sshHostKeyWhiteouts
    }

    /// The SSH host keys openssh-server's postinst made once, inside mmdebstrap: every node
    /// booting the image would share them (and anyone holding the image could pose as any
    /// node). Whiteouts remove them; each node makes its own at boot (`sshHostKeysUnit`).
    static let sshHostKeyNames = ["dsa", "ecdsa", "ed25519", "rsa"].flatMap { type in
        ["ssh_host_\(type)_key", "ssh_host_\(type)_key.pub"]
    }

    /// The host key types each node makes at boot.
    static let sshHostKeyTypes = ["ed25519", "ecdsa"]

    /// sshd's host keys: the ones each node makes (without this, sshd also looks for an RSA
    /// key and logs its absence at every start).
    static var sshHostKeysConfig: String {
        "# livebuild: each node makes its own host keys at boot (clusterd-ssh-host-keys.service).\n"
            + sshHostKeyTypes.map { "HostKey /etc/ssh/ssh_host_\($0)_key\n" }.joined()
    }

    static var sshHostKeyWhiteouts: [InlineFilesSource.File] {
        sshHostKeyNames.map { .init(path: "etc/ssh/.wh." + $0, content: [], permissions: 0o644) }
    }

    /// Each node's own SSH host keys, made at its first boot (every boot of a live system) before
    /// sshd starts: the image carries none, and Debian's ssh.service does not make missing ones.
    /// Ed25519 and ECDSA, each only when missing, so keys a node kept (persistence) stay. No
    /// RSA key: making one took 2-5 s of CPU under TCG, during the boot, and no current client
    /// needs it (`sshHostKeysConfig` names the two keys sshd serves). Not ordered before the
    /// rest of the boot: only sshd waits for it.
    static let sshHostKeysUnit = """
        [Unit]
        Description=livebuild per-node SSH host keys (the image carries none)
        Before=ssh.service
        ConditionPathExists=/usr/sbin/sshd

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/sh -c 'for type in \(sshHostKeyTypes.joined(separator: " ")); do key=/etc/ssh/ssh_host_$${type}_key; [ -s "$$key" ] || /usr/bin/ssh-keygen -q -t "$$type" -N "" -C "root@$$(hostname)" -f "$$key" || exit 1; done'
        StandardOutput=journal+console
        StandardError=journal+console

        [Install]
        WantedBy=multi-user.target

        """

    /// Applies the node configuration before networking starts, so a static address and the
    /// host name are in place when networkd and the agent come up. Errors (a bad `cluster.*`
    /// parameter) go to the console as well as the journal.
    static let configUnit = """
        [Unit]
        Description=livebuild node configuration (host name, network, SSH keys)
        DefaultDependencies=no
        After=local-fs.target systemd-sysusers.service systemd-udev-trigger.service
        Before=sysinit.target network-pre.target systemd-networkd.service ssh.service
        Wants=network-pre.target
        ConditionPathExists=/etc/livebuild/profile.json

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        # The node id comes from the network card's MAC. The live init has loaded the usual
        # cards' drivers, so a card is usually there already. Only when none is, and a PCI
        # network controller still has no driver (udev is loading it), does this wait for udev
        # to finish (on a loaded host a card can appear many seconds into the boot). Waiting for
        # udev every time held the whole boot up 7-15 s under TCG (Docs/benchmarks.md, "Boot time").
        ExecStartPre=-/bin/sh -c 'for card in /sys/class/net/*/device; do [ -e "$$card" ] && exit 0; done; for pci in /sys/bus/pci/devices/*; do case "$$(cat "$$pci/class" 2>/dev/null)" in 0x02*) [ -e "$$pci/driver" ] || exec /usr/bin/udevadm settle --timeout=120;; esac; done'
        ExecStart=/usr/sbin/clusterd configure
        StandardOutput=journal+console
        StandardError=journal+console

        [Install]
        WantedBy=sysinit.target

        """

    /// The agent. It waits for an address itself, so it needs no network-online ordering;
    /// restarts on failure (a crash must not leave the node outside the cluster). Jobs are its
    /// children, in its cgroup: `KillMode=process` stops only the agent, so restarting it never
    /// kills a running job (the new agent adopts them from their job.json). `Nice=-10` keeps
    /// the agent answering probes while jobs load the CPU; jobs still start at nice 0 (the
    /// launcher undoes the inherited value).
    static let agentUnit = """
        [Unit]
        Description=livebuild cluster agent (discovery, membership, load gossip)
        After=network.target clusterd-config.service systemd-sysusers.service
        Requires=clusterd-config.service

        [Service]
        ExecStart=/usr/sbin/clusterd run
        Restart=on-failure
        RestartSec=1
        KillMode=process
        Nice=-10
        # Room for many streams and jobs; the agent itself caps connections (Docs/security.md).
        LimitNOFILE=65536
        StandardError=journal+console

        [Install]
        WantedBy=multi-user.target

        """

    /// The head node's PXE boot server (`clusterd serve-boot`): only on the node whose
    /// configuration makes it the head (`clusterd configure` leaves the marker file).
    static let headUnit = """
        [Unit]
        Description=livebuild head node: PXE boot server for diskless nodes (dnsmasq, HTTP)
        After=network.target clusterd-config.service
        Requires=clusterd-config.service
        ConditionPathExists=/run/clusterd/role-head

        [Service]
        ExecStart=/usr/sbin/clusterd serve-boot
        Restart=on-failure
        RestartSec=2
        StandardError=journal+console

        [Install]
        WantedBy=multi-user.target

        """

    /// The shared directory (`clusterd share`): the head exports it over NFS to the members and
    /// keeps running, following membership; the others mount it, retrying until the head
    /// answers. Type=exec: neither holds up the boot (a node whose head is not up yet still
    /// finishes booting).
    static let shareUnit = """
        [Unit]
        Description=livebuild shared directory (NFS export on the head, mount on the other nodes)
        After=network-online.target clusterd-config.service
        Wants=network-online.target
        Requires=clusterd-config.service
        ConditionPathExists=/run/clusterd/share

        [Service]
        Type=exec
        ExecStart=/usr/sbin/clusterd share
        Restart=on-failure
        RestartSec=5
        StandardOutput=journal+console
        StandardError=journal+console

        [Install]
        WantedBy=multi-user.target

        """

    /// The group whose members may use `cluster` (the agent's control socket).
    static let sysusers = """
        # livebuild: members of this group may use the cluster command (clusterd's control socket).
        g cluster -

        """
}
