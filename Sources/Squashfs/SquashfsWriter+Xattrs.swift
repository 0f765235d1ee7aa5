import CSquashfs
import Filesystem

extension Squashfs.Writer {
    /// Records a node's extended attributes in the xattr writer, which deduplicates identical
    /// sets, and keeps the resulting index on the node. Namespaces squashfs cannot store
    /// (anything but `user.`, `trusted.`, `security.`) are skipped and counted in the summary.
    func recordXattrs(_ xattrs: [Xattr], of node: Squashfs.Node) throws(Squashfs.Error) {
        guard !xattrs.isEmpty, let xattrWriter else { return }
        let storable = xattrs.filter { sqfs_get_xattr_prefix_id($0.name) >= 0 }
        skippedXattrs += xattrs.count - storable.count
        guard !storable.isEmpty else { return }
        try Squashfs.check(sqfs_xattr_writer_begin(xattrWriter, 0), "starting an xattr set")
        for xattr in storable {
            let status = xattr.value.withUnsafeBytes { value -> Int32 in
                if let base = value.baseAddress {
                    return sqfs_xattr_writer_add(xattrWriter, xattr.name, base, value.count)
                }
                var empty: UInt8 = 0
                return sqfs_xattr_writer_add(xattrWriter, xattr.name, &empty, 0)
            }
            try Squashfs.check(status, "storing xattr \(xattr.name)")
        }
        var index: UInt32 = Squashfs.Node.noXattrs
        try Squashfs.check(sqfs_xattr_writer_end(xattrWriter, &index), "finishing an xattr set")
        node.xattrIndex = index
    }
}
