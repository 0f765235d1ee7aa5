/// The cluster's shared directory (default /home): the head exports it over NFS, every other
/// node mounts it from the head, so a job sees the same files wherever it runs and the migration
/// engine has nothing to copy for files there (Docs/pxe.md, shared storage).
public enum SharedDirectory: Sendable, Equatable {
    case export(path: String)
    case mount(server: String, path: String)
    /// No server configured: mount from the member that announces it exports the directory.
    case discover(path: String)

    /// The head's exports file, read by nfs-server.service's `exportfs -r`.
    public static let exportsFile = "/etc/exports.d/livebuild.exports"

    /// Reads what `clusterd configure` wrote: `export PATH`, `mount SERVER PATH` or
    /// `discover PATH`.
    public init(line: String) throws(BootServerError) {
        let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        switch (words.first, words.count) {
        case ("export", 2) where words[1].hasPrefix("/"):
            self = .export(path: words[1])
        case ("mount", 3) where words[2].hasPrefix("/"):
            self = .mount(server: words[1], path: words[2])
        case ("discover", 2) where words[1].hasPrefix("/"):
            self = .discover(path: words[1])
        default:
            throw BootServerError("cannot read the share setting \"\(line)\": expected \"export PATH\", \"mount SERVER PATH\" or \"discover PATH\"")
        }
    }

    /// The export's options. Read-write, the NFSv4 root (`fsid=0`: otherwise the server's
    /// pseudo root would be the overlayfs `/`, and looking `/home` up in it fails, "No such
    /// file or directory"; the directory is a tmpfs, since overlayfs cannot be exported).
    /// `sec=sys`: users keep their uids on every node (no `all_squash`), but root on a client
    /// is squashed to nobody, so no member can plant a root-owned setuid program for the
    /// others (which also mount with `nosuid,nodev`).
    public static let exportOptions = "sec=sys,rw,sync,no_subtree_check,root_squash,fsid=0"

    /// The head's exports file: `path` for each client alone (`ADDRESS/32`), the cluster's
    /// members as `clusterd share` last heard them from the local agent. No client, no export:
    /// until the agent answers, nobody mounts, and the cluster's network as a whole never does.
    public static func exportsText(path: String, clients: [String]) -> String {
        var text = "# Written by clusterd share: \(path) for the cluster's members alone, rewritten as they join and leave.\n"
        if clients.isEmpty {
            text += "# No member known yet: \(path) is exported to nobody.\n"
        } else {
            text += path + clients.map { " \($0)/32(\(exportOptions))" }.joined() + "\n"
        }
        return text
    }

    /// The export's clients for the members' agent addresses (`HOST:PORT`): each IPv4 host once,
    /// in numeric order (the file changes only when the set does). Anything else (IPv6, a name)
    /// is left out: a member the head cannot name by an IPv4 address gets no export.
    public static func exportClients(agentAddresses: some Sequence<String>) -> [String] {
        let hosts = Set(agentAddresses.map { host(ofAgentAddress: $0) })
        return hosts.compactMap { host -> (String, [Int])? in
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            let octets = parts.compactMap { part in
                part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) ? Int(part) : nil
            }
            guard parts.count == 4, octets.count == 4, octets.allSatisfy({ $0 <= 255 }) else { return nil }
            return (octets.map(String.init).joined(separator: "."), octets)
        }
        .sorted { $0.1.lexicographicallyPrecedes($1.1) }
        .map(\.0)
    }

    /// The members a share is exported to over time: a member is added as soon as it is
    /// listed and removed only once it has been missing for ``grace``. Taking the export away
    /// from a member that is dead for a moment (a partition, the head's agent restarting) would
    /// fail its jobs' I/O on the share: a `hard` mount does not retry a permission error.
    public struct ExportClients: Sendable, Equatable {
        public static let grace: Duration = .seconds(60)
        private var lastSeen: [String: ContinuousClock.Instant] = [:]

        public init() {}

        /// The clients to export to at `now`, given the members listed now.
        public mutating func update(listed: [String], now: ContinuousClock.Instant) -> [String] {
            for client in listed { lastSeen[client] = now }
            lastSeen = lastSeen.filter { now - $0.value < Self.grace }
            return SharedDirectory.exportClients(agentAddresses: lastSeen.keys)
        }
    }

    /// The head's exports file for its boot medium, when the medium's menus boot diskless nodes
    /// with their root over NFS (`pxe.root` `nfs`, `live.nfs=`).
    public static let mediumExportsFile = "/etc/exports.d/livebuild-medium.exports"

    /// The boot medium's exports line, for its `live/` directory (`path`) alone: the medium
    /// also holds the cluster key, which is never served (Docs/security.md). `subtree_check`
    /// makes nfsd refuse a guessed file handle outside `path` on the same filesystem (the medium
    /// is read-only, so none of subtree checking's rename troubles apply). Read-only, every
    /// client squashed to nobody (the files are world-readable), for the cluster's network
    /// alone. Mounted by path over NFSv3 (the NFSv4 root is the shared directory); `fsid=1`,
    /// as iso9660 has no UUID for nfsd.
    public static func mediumExportsLine(path: String, network: String, prefixLength: Int) -> String {
        "\(path) \(network)/\(prefixLength)(ro,all_squash,subtree_check,fsid=1)\n"
    }

    /// Whether the PXE tree's iPXE script boots nodes with `live.nfs=`: the server then exports
    /// the tree over NFS too.
    public static func treeMountsOverNFS(ipxeScript: String) -> Bool {
        ipxeScript.contains(" live.nfs=")
    }

    /// The host of an agent address (`HOST:PORT`, `[V6]:PORT`): where a member that shares the
    /// directory exports it.
    public static func host(ofAgentAddress address: String) -> String {
        if address.hasPrefix("["), let end = address.firstIndex(of: "]") {
            return String(address[address.index(after: address.startIndex)..<end])
        }
        return String(address.prefix { $0 != ":" })
    }

    /// The export is the server's NFSv4 root (`SERVER:/`). NFSv4 needs no rpcbind or statd on
    /// the client; `hard` (the default) rather than `soft`, so a head that is slow to answer
    /// delays a job's writes instead of failing them. `nosuid,nodev`: a setuid program or a
    /// device node on the share is never honoured on the node mounting it. `retry=0`: one
    /// attempt per `mount` run (the share service tries again every few seconds), where
    /// mount.nfs would otherwise go on for 2 minutes in the foreground: a node whose address
    /// changed after the head published its exports waited that long (session 17's CI run).
    public static let mountOptions = "hard,noatime,nosuid,nodev,retry=0"

    public static func mountArguments(server: String, path: String) -> [String] {
        let host = server.contains(":") ? "[\(server)]" : server
        return ["/usr/bin/mount", "-t", "nfs4", "-o", mountOptions, "\(host):/", path]
    }
}
