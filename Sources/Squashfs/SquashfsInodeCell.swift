import CSquashfs

extension Squashfs {
    /// Owns the inode the block processor builds for one regular file.
    ///
    /// `sqfs_block_processor_begin_file` keeps the address of an inode pointer and replaces the
    /// inode while blocks are in flight, so that pointer needs a stable home: this cell. The cell
    /// frees the inode (allocated by libsquashfs) when it goes away; the writer destroys the block
    /// processor before releasing its tree, so the processor never touches a freed cell.
    final class InodeCell {
        let slot: UnsafeMutablePointer<UnsafeMutablePointer<sqfs_inode_generic_t>?>

        init() {
            slot = .allocate(capacity: 1)
            slot.initialize(to: nil)
        }

        /// The inode, once the processor has created it.
        var inode: UnsafeMutablePointer<sqfs_inode_generic_t>? { slot.pointee }

        deinit {
            if let inode = slot.pointee { sqfs_free(inode) }
            slot.deinitialize(count: 1)
            slot.deallocate()
        }
    }
}
