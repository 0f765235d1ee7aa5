import CSquashfs

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Squashfs {
    /// Builds the inodes libsquashfs does not build for us: symlinks, devices, fifos, sockets.
    /// (Directory inodes come from the directory writer, file inodes from the block processor.)
    enum InodeBuilder {
        /// A basic inode for a non-directory, non-regular node, allocated with `calloc` so that
        /// `sqfs_free` releases it. Mode, owner, time and number are set by the caller.
        static func specialInode(of node: Node) throws(Error) -> UnsafeMutablePointer<sqfs_inode_generic_t> {
            let target = Array((node.linkTarget ?? "").utf8)
            let extra = node.kind == .symlink ? target.count : 0
            let header = MemoryLayout<sqfs_inode_generic_t>.size
            let raw = try created(calloc(1, header + extra), "allocating the inode of \(node.name)")
            let inode = raw.bindMemory(to: sqfs_inode_generic_t.self, capacity: 1)
            switch node.kind {
            case .symlink:
                inode.pointee.base.type = UInt16(SQFS_INODE_SLINK.rawValue)
                inode.pointee.data.slink.nlink = node.linkCount
                inode.pointee.data.slink.target_size = UInt32(extra)
                // The target follows the fixed part of the structure (its flexible `extra` array).
                target.withUnsafeBytes { bytes in
                    if let base = bytes.baseAddress {
                        (raw + header).copyMemory(from: base, byteCount: bytes.count)
                    }
                }
            case .characterDevice, .blockDevice:
                let type = node.kind == .blockDevice ? SQFS_INODE_BDEV : SQFS_INODE_CDEV
                inode.pointee.base.type = UInt16(type.rawValue)
                inode.pointee.data.dev.nlink = node.linkCount
                inode.pointee.data.dev.devno = node.deviceNumber
            case .fifo, .socket:
                let type = node.kind == .fifo ? SQFS_INODE_FIFO : SQFS_INODE_SOCKET
                inode.pointee.base.type = UInt16(type.rawValue)
                inode.pointee.data.ipc.nlink = node.linkCount
            case .regular, .directory, .hardlink:
                free(raw)
                throw failure(SQFS_ERROR_INTERNAL, "building a special inode for \(node.name), a \(node.kind)")
            }
            return inode
        }
    }
}
