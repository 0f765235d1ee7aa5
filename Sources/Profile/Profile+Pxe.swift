extension Profile {
    /// The PXE tree's settings (`outputs: ["pxe"]`): how a diskless node gets its root
    /// filesystem. Docs/pxe.md.
    public struct Pxe: Sendable, Equatable {
        /// Where a diskless node's squashfs comes from.
        public enum Root: String, Sendable, Equatable, CaseIterable {
            /// Downloaded over HTTP into RAM and verified before use (`fetch=`): the node needs
            /// the server only while it boots, and RAM for the whole squashfs.
            case http
            /// Read over NFS from the head's boot medium (`live.nfs=`), verified once before
            /// use: no RAM for the squashfs, but the node depends on the head while it runs.
            case nfs
        }

        public var root: Root

        public init(root: Root = .http) {
            self.root = root
        }
    }
}
