import Filesystem

extension Squashfs {
    /// One name in the image tree: the metadata of an entry, never its contents. Regular file
    /// data is already in the image by the time a node exists; only its inode cell is kept.
    final class Node {
        /// Marks an inode without extended attributes (squashfs's "no xattr" index).
        static let noXattrs: UInt32 = 0xFFFF_FFFF

        let name: String
        private(set) var kind: FileEntry.Kind
        var permissions: UInt32
        var uid: UInt32
        var gid: UInt32
        var mtime: UInt32
        /// Token from the xattr writer, or `noXattrs`.
        var xattrIndex: UInt32 = Node.noXattrs
        /// Symlink target, or the normalised target path of a hard link.
        var linkTarget: String?
        /// Device number in the Linux `new_encode_dev` layout squashfs stores.
        var deviceNumber: UInt32 = 0
        /// A directory created because something below it arrived first; the real entry,
        /// when it comes, replaces its metadata.
        var isImplicit: Bool
        /// Children by name (directories only).
        var children: [String: Node] = [:]
        /// Children sorted for the directory table, set when inodes are numbered.
        var orderedChildren: [Node] = []
        /// The inode the block processor fills in (regular files only).
        var cell: InodeCell?

        // Filled in by `finish()`.
        /// For a hard link: the node whose inode it shares.
        var hardLinkTarget: Node?
        var inodeNumber: UInt32 = 0
        /// For a directory: the inode number of its parent.
        var parentInodeNumber: UInt32 = 0
        var inodeReference: UInt64 = 0
        /// Number of names for a non-directory, `2 + subdirectories` for a directory.
        var linkCount: UInt32 = 1

        init(name: String, entry: FileEntry) {
            self.name = name
            self.kind = entry.kind
            self.permissions = entry.permissions
            self.uid = entry.uid
            self.gid = entry.gid
            self.mtime = Node.clampTime(entry.mtime)
            self.linkTarget = entry.linkTarget
            self.isImplicit = false
            if entry.kind == .characterDevice || entry.kind == .blockDevice {
                self.deviceNumber = Node.encodeDevice(major: entry.deviceMajor, minor: entry.deviceMinor)
            }
        }

        /// An implicit directory: `0755`, owned by root, stamped with the image time.
        init(implicitDirectoryNamed name: String, mtime: UInt32) {
            self.name = name
            self.kind = .directory
            self.permissions = 0o755
            self.uid = 0
            self.gid = 0
            self.mtime = mtime
            self.isImplicit = true
        }

        var isDirectory: Bool { kind == .directory }

        /// Gives an implicit directory the metadata of the real entry that just arrived.
        func adopt(_ entry: FileEntry) {
            permissions = entry.permissions
            uid = entry.uid
            gid = entry.gid
            mtime = Node.clampTime(entry.mtime)
            isImplicit = false
        }

        /// Children in the order squashfs requires: by the bytes of their names.
        var sortedChildren: [Node] {
            children.values.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        }

        /// `st_mode` as the directory writer wants it (type bits and permissions).
        var mode: UInt16 {
            let type: UInt32
            switch kind {
            case .regular, .hardlink: type = 0o100000
            case .directory: type = 0o040000
            case .symlink: type = 0o120000
            case .characterDevice: type = 0o020000
            case .blockDevice: type = 0o060000
            case .fifo: type = 0o010000
            case .socket: type = 0o140000
            }
            return UInt16(truncatingIfNeeded: type | (permissions & 0o7777))
        }

        /// Squashfs times are unsigned 32-bit seconds; earlier or later times are clamped.
        static func clampTime(_ seconds: Int64) -> UInt32 {
            UInt32(clamping: max(0, seconds))
        }

        /// The kernel's `new_encode_dev`: 12-bit major, 20-bit minor in 32 bits.
        static func encodeDevice(major: UInt32, minor: UInt32) -> UInt32 {
            (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)
        }
    }
}
