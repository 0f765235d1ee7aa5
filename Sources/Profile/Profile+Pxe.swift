import NodeConfig
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

        /// One node's own choice of root (`pxe.nodes`), by the MAC address it boots with: the
        /// loaders pick it before anything else runs on the node, so a MAC, not a serial.
        public struct Node: Sendable, Equatable {
            /// Lowercase, colon-separated (`52:54:00:12:34:56`), as iPXE and GRUB print it.
            public var mac: String
            public var root: Root

            public init(mac: String, root: Root) {
                self.mac = mac
                self.root = root
            }

            /// The MAC as PXELINUX names a per-node file (`01-52-54-00-12-34-56`: ARP type 1,
            /// then the address with dashes).
            public var pxelinuxName: String { "01-" + String(mac.map { $0 == ":" ? "-" : $0 }) }
        }

        /// The root every node gets unless ``nodes`` names it.
        public var root: Root
        /// Nodes whose root differs from ``root`` (or restates it), in the profile's order.
        public var nodes: [Node]

        public init(root: Root = .http, nodes: [Node] = []) {
            self.root = root
            self.nodes = nodes
        }

        /// The root the node with `mac` (any case, ':' or '-') gets.
        public func root(forMAC mac: String) -> Root {
            let wanted = NodeConfig.Rules.normalizedMAC(mac)
            return nodes.first { $0.mac == wanted }?.root ?? root
        }
    }
}
