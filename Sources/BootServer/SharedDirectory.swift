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

    /// The exports line: read-write for the cluster's network alone. The directory is a tmpfs
    /// (overlayfs, the live root, cannot be exported), and it is the NFSv4 root (`fsid=0`):
    /// otherwise the server's pseudo root would be the overlayfs `/`, and looking `/home` up
    /// in it fails ("No such file or directory"). `no_root_squash`: jobs migrate with their
    /// owner, root included, as on openMosix.
    public static func exportsLine(path: String, network: String, prefixLength: Int) -> String {
        "\(path) \(network)/\(prefixLength)(rw,sync,no_subtree_check,no_root_squash,fsid=0)\n"
    }

    /// The head's exports file for its boot medium, when the medium's menus boot diskless nodes
    /// with their root over NFS (`pxe.root` `nfs`, `live.nfs=`).
    public static let mediumExportsFile = "/etc/exports.d/livebuild-medium.exports"

    /// The boot medium's exports line: read-only, every client squashed to nobody (the tree's
    /// files are world-readable), for the cluster's network alone. Mounted by path over NFSv3
    /// (the NFSv4 root is the shared directory); `fsid=1`, as iso9660 has no UUID for nfsd.
    public static func mediumExportsLine(path: String, network: String, prefixLength: Int) -> String {
        "\(path) \(network)/\(prefixLength)(ro,all_squash,no_subtree_check,fsid=1)\n"
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
    /// delays a job's writes instead of failing them.
    public static func mountArguments(server: String, path: String) -> [String] {
        let host = server.contains(":") ? "[\(server)]" : server
        return ["/usr/bin/mount", "-t", "nfs4", "-o", "hard,noatime", "\(host):/", path]
    }
}
