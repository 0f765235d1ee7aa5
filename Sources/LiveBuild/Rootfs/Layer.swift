import Filesystem

/// One layer of a root filesystem: the base, an overlay directory, the inline files, an OCI layer.
public struct Layer {
    /// How the layer's directory entries weigh against those of lower layers.
    public enum DirectoryWeight: Sendable {
        /// The layer's own directory metadata wins (OCI layers, like `docker` applies them).
        case strong
        /// Lower layers' directory metadata wins; the layer's directories only create what is
        /// missing (overlays: a checkout's directory modes and owners mean nothing, and an
        /// overlay holding `/tmp/x` must not reset `/tmp` from 1777 to 0755).
        case weak
    }

    /// Where the layer comes from, for messages (`overlays[1] (overlays/cluster)`).
    public var name: String
    public var source: EntrySource
    public var directories: DirectoryWeight
    /// Whether `.wh.NAME` and `.wh..wh..opq` entries delete paths of lower layers (OCI).
    public var whiteouts: Bool

    public init(name: String, source: EntrySource, directories: DirectoryWeight, whiteouts: Bool = false) {
        self.name = name
        self.source = source
        self.directories = directories
        self.whiteouts = whiteouts
    }
}
