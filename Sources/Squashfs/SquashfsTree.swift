import Filesystem

extension Squashfs {
    /// The image's directory tree, built from an entry stream that may come in any order.
    ///
    /// Rules (callers stream upper layers first and rely on them):
    /// - the first entry for a path wins; later ones are ignored;
    /// - missing parents are created as implicit directories (`0755`, root:root, image time); a
    ///   directory entry arriving later for such a path gives it its metadata, once;
    /// - an entry whose path lies below a non-directory, or a non-directory arriving where a
    ///   directory already is, is ignored.
    ///
    /// Pure bookkeeping, no C: the writer stores data and xattrs for what this accepts.
    final class Tree {
        /// What `insert` did with an entry.
        enum Insertion {
            /// A new node; the writer stores its data and xattrs.
            case inserted(Node)
            /// An implicit directory took the entry's metadata; the writer stores its xattrs.
            case completed(Node)
            /// An earlier entry owns the path (or a path above it is not a directory).
            case ignored
        }

        let root: Node
        /// Time given to implicit directories.
        let implicitTime: UInt32
        private(set) var ignoredCount = 0
        private var hardLinks: [(path: String, node: Node)] = []

        init(implicitTime: UInt32) {
            self.implicitTime = implicitTime
            self.root = Node(implicitDirectoryNamed: "", mtime: implicitTime)
        }

        /// Merges one entry into the tree by the rules above.
        func insert(_ entry: FileEntry) -> Insertion {
            let path = FilePath.normalize(entry.path)
            if path.isEmpty {
                return complete(root, with: entry)
            }
            let components = path.split(separator: "/").map(String.init)
            var directory = root
            for name in components.dropLast() {
                if let child = directory.children[name] {
                    guard child.isDirectory else { return ignore() }
                    directory = child
                } else {
                    let child = Node(implicitDirectoryNamed: name, mtime: implicitTime)
                    directory.children[name] = child
                    directory = child
                }
            }
            let name = components[components.count - 1]
            if let existing = directory.children[name] {
                return complete(existing, with: entry)
            }
            let node = Node(name: name, entry: entry)
            if entry.kind == .hardlink {
                node.linkTarget = entry.linkTarget.map(FilePath.normalize)
                hardLinks.append((path, node))
            }
            directory.children[name] = node
            return .inserted(node)
        }

        private func complete(_ existing: Node, with entry: FileEntry) -> Insertion {
            guard existing.isDirectory, existing.isImplicit, entry.kind == .directory else {
                return ignore()
            }
            existing.adopt(entry)
            return .completed(existing)
        }

        private func ignore() -> Insertion {
            ignoredCount += 1
            return .ignored
        }

        /// The node at a normalised path, if any.
        func node(at path: String) -> Node? {
            var node = root
            for name in path.split(separator: "/") {
                guard let child = node.children[String(name)] else { return nil }
                node = child
            }
            return node
        }

        /// Points every hard link at the node whose inode it shares and counts the links.
        /// Links may point at links; the chain must end at a non-directory in the tree.
        func resolveHardLinks() throws(Error) {
            for (path, link) in hardLinks {
                let targetPath = link.linkTarget ?? ""
                var target = node(at: targetPath)
                var steps = 0
                while let current = target, current.kind == .hardlink, steps <= hardLinks.count {
                    target = node(at: current.linkTarget ?? "")
                    steps += 1
                }
                guard let target, target.kind != .hardlink, !target.isDirectory else {
                    throw .unresolvedHardLink(path: path, target: targetPath)
                }
                link.hardLinkTarget = target
                target.linkCount += 1
            }
        }

        /// Numbers the inodes and returns them in the order they are written: every inode before
        /// the directory listing it, subdirectories before their parent, the root last. A shared
        /// (hard-linked) inode is numbered where it is first met. Deterministic: it depends only
        /// on the tree, walked in name order.
        func numberInodes() -> [Node] {
            var order: [Node] = []
            func visit(_ directory: Node) {
                let children = directory.sortedChildren
                var subdirectories: UInt32 = 0
                for child in children where child.isDirectory {
                    visit(child)
                    subdirectories += 1
                }
                for child in children {
                    let owner = child.hardLinkTarget ?? child
                    if owner.inodeNumber == 0 {
                        order.append(owner)
                        owner.inodeNumber = UInt32(order.count)
                    }
                }
                directory.orderedChildren = children
                directory.linkCount = 2 + subdirectories
            }
            visit(root)
            order.append(root)
            root.inodeNumber = UInt32(order.count)
            // The root's ".." points past the last inode, as mksquashfs does.
            root.parentInodeNumber = root.inodeNumber + 1
            for directory in order where directory.isDirectory {
                for child in directory.orderedChildren where child.isDirectory {
                    child.parentInodeNumber = directory.inodeNumber
                }
            }
            return order
        }
    }
}
