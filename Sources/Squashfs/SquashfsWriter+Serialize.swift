import CSquashfs
import Filesystem

extension Squashfs.Writer {
    /// Waits for the last data blocks, then writes the inode and directory tables, the fragment,
    /// export, id and xattr tables and the final superblock, pads the image to 4 KiB like
    /// tar2sqfs and mksquashfs, and closes the file.
    public func finish() throws -> Squashfs.Summary {
        switch state {
        case .open: break
        case .finished: throw Squashfs.Error.notWritable("\(path) is already finished")
        case .failed(let reason): throw Squashfs.Error.notWritable("an earlier error: \(reason)")
        }
        do {
            let summary = try writeMetadata()
            state = .finished
            releaseHandles()
            return summary
        } catch {
            state = .failed("\(error)")
            releaseHandles()
            throw error
        }
    }

    private func writeMetadata() throws(Squashfs.Error) -> Squashfs.Summary {
        guard let file, let compressor, let processor, let blockWriter, let fragmentTable,
              let idTable, let xattrWriter, let inodeMeta, let directoryMeta, let directoryWriter
        else { throw .notWritable("\(path) is not open") }

        try tree.resolveHardLinks()
        try Squashfs.check(sqfs_block_processor_finish(processor), "writing the last data blocks of \(path)")

        let inodes = tree.numberInodes()
        superblock.inode_count = UInt32(inodes.count)
        superblock.inode_table_start = try fileSize(file)
        for node in inodes {
            try writeInode(of: node, inodeMeta: inodeMeta, directoryWriter: directoryWriter, idTable: idTable)
        }
        try Squashfs.check(sqfs_meta_writer_flush(inodeMeta), "writing the inode table of \(path)")
        try Squashfs.check(sqfs_meta_writer_flush(directoryMeta), "finishing the directory table of \(path)")
        superblock.root_inode_ref = tree.root.inodeReference
        superblock.directory_table_start = try fileSize(file)
        try Squashfs.check(sqfs_meta_write_write_to_file(directoryMeta), "writing the directory table of \(path)")

        try Squashfs.check(sqfs_frag_table_write(fragmentTable, file, &superblock, compressor),
                           "writing the fragment table of \(path)")
        if options.exportable {
            try Squashfs.check(sqfs_dir_writer_write_export_table(
                directoryWriter, file, compressor, tree.root.inodeNumber, tree.root.inodeReference,
                &superblock), "writing the export table of \(path)")
        }
        try Squashfs.check(sqfs_id_table_write(idTable, file, &superblock, compressor),
                           "writing the id table of \(path)")
        try Squashfs.check(sqfs_xattr_writer_flush(xattrWriter, file, &superblock, compressor),
                           "writing the xattr tables of \(path)")

        superblock.bytes_used = try fileSize(file)
        try Squashfs.check(sqfs_super_write(&superblock, file), "writing the superblock of \(path)")
        let padded = try pad(file, to: UInt64(SQFS_DEVBLK_SIZE))

        let stats = sqfs_block_processor_get_stats(processor)?.pointee ?? sqfs_block_processor_stats_t()
        let written = blockWriter.pointee.get_block_count?(blockWriter) ?? 0
        return Squashfs.Summary(
            inodeCount: inodes.count,
            bytesUsed: superblock.bytes_used,
            fileSize: padded,
            inputBytes: stats.input_bytes_read,
            blocksWritten: written,
            fragmentBlocks: stats.frag_block_count,
            duplicateBlocks: (stats.data_block_count + stats.frag_block_count) &- written,
            sparseBlocks: stats.sparse_block_count,
            fragments: stats.actual_frag_count,
            duplicateFragments: stats.total_frag_count &- stats.actual_frag_count,
            idCount: Int(superblock.id_count),
            ignoredEntries: tree.ignoredCount,
            skippedXattrs: skippedXattrs)
    }

    /// Writes one inode (for a directory, its listing first) and remembers where it went.
    private func writeInode(
        of node: Squashfs.Node, inodeMeta: OpaquePointer, directoryWriter: OpaquePointer,
        idTable: OpaquePointer
    ) throws(Squashfs.Error) {
        let inode: UnsafeMutablePointer<sqfs_inode_generic_t>
        var ownsInode = true
        switch node.kind {
        case .directory:
            inode = try directoryInode(of: node, directoryWriter: directoryWriter)
        case .regular:
            guard let fileInode = node.cell?.inode else {
                throw Squashfs.failure(SQFS_ERROR_INTERNAL, "finding the data of \(node.name): no inode was produced")
            }
            inode = fileInode
            ownsInode = false  // the cell frees it
            if node.linkCount > 1 || Int32(inode.pointee.base.type) == SQFS_INODE_EXT_FILE.rawValue {
                try Squashfs.check(sqfs_inode_make_extended(inode), "extending the inode of \(node.name)")
                inode.pointee.data.file_ext.nlink = node.linkCount
            }
            try Squashfs.check(sqfs_inode_set_xattr_index(inode, node.xattrIndex),
                               "setting the xattrs of \(node.name)")
        default:
            inode = try Squashfs.InodeBuilder.specialInode(of: node)
            try Squashfs.check(sqfs_inode_set_xattr_index(inode, node.xattrIndex),
                               "setting the xattrs of \(node.name)")
        }
        defer { if ownsInode { sqfs_free(inode) } }

        inode.pointee.base.mode = node.mode
        inode.pointee.base.mod_time = node.mtime
        inode.pointee.base.inode_number = node.inodeNumber
        try Squashfs.check(sqfs_id_table_id_to_index(idTable, node.uid, &inode.pointee.base.uid_idx),
                           "recording uid \(node.uid)")
        try Squashfs.check(sqfs_id_table_id_to_index(idTable, node.gid, &inode.pointee.base.gid_idx),
                           "recording gid \(node.gid)")

        var block: UInt64 = 0
        var offset: UInt32 = 0
        sqfs_meta_writer_get_position(inodeMeta, &block, &offset)
        node.inodeReference = (block << 16) | UInt64(offset)
        try Squashfs.check(sqfs_meta_writer_write_inode(inodeMeta, inode), "writing the inode of \(node.name)")
    }

    /// Writes a directory's listing and returns its (malloc'ed) inode.
    private func directoryInode(
        of node: Squashfs.Node, directoryWriter: OpaquePointer
    ) throws(Squashfs.Error) -> UnsafeMutablePointer<sqfs_inode_generic_t> {
        try Squashfs.check(sqfs_dir_writer_begin(directoryWriter, 0), "starting directory \(node.name)")
        for child in node.orderedChildren {
            let owner = child.hardLinkTarget ?? child
            try Squashfs.check(sqfs_dir_writer_add_entry(
                directoryWriter, child.name, owner.inodeNumber, owner.inodeReference, owner.mode),
                "listing \(child.name) in directory \(node.name)")
        }
        try Squashfs.check(sqfs_dir_writer_end(directoryWriter), "finishing directory \(node.name)")
        let inode = try Squashfs.created(
            sqfs_dir_writer_create_inode(directoryWriter, 0, node.xattrIndex, node.parentInodeNumber),
            "creating the inode of directory \(node.name)")
        if Int32(inode.pointee.base.type) == SQFS_INODE_DIR.rawValue {
            inode.pointee.data.dir.nlink = node.linkCount
        } else {
            inode.pointee.data.dir_ext.nlink = node.linkCount
        }
        return inode
    }

    private func fileSize(_ file: UnsafeMutablePointer<sqfs_file_t>) throws(Squashfs.Error) -> UInt64 {
        guard let getSize = file.pointee.get_size else {
            throw Squashfs.failure(SQFS_ERROR_INTERNAL, "asking the size of \(path)")
        }
        return getSize(file)
    }

    /// Appends zeros up to the next multiple of `unit`; returns the new size.
    private func pad(_ file: UnsafeMutablePointer<sqfs_file_t>, to unit: UInt64) throws(Squashfs.Error) -> UInt64 {
        let size = try fileSize(file)
        let remainder = size % unit
        guard remainder != 0 else { return size }
        let zeros = [UInt8](repeating: 0, count: Int(unit - remainder))
        guard let writeAt = file.pointee.write_at else {
            throw Squashfs.failure(SQFS_ERROR_INTERNAL, "padding \(path): the file object cannot write")
        }
        let status = zeros.withUnsafeBytes { buffer in
            writeAt(file, size, buffer.baseAddress, buffer.count)
        }
        try Squashfs.check(status, "padding \(path)")
        return size + UInt64(zeros.count)
    }
}
