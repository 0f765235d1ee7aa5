import Foundation
import Testing
import Filesystem
@testable import Squashfs

/// Options validation, the tree's merge rules and determinism; no reference tools needed.
@Suite struct SquashfsWriterTests {
    // MARK: Options

    @Test(arguments: [0, 1, 2048, 4095, 12288, 3 * 65_536, 2 * 1_048_576])
    func badBlockSizesAreRejected(_ blockSize: Int) throws {
        let options = Squashfs.Options(blockSize: blockSize)
        #expect(throws: Squashfs.Error.self) { try options.validate() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID()).sqfs").path
        #expect(throws: Squashfs.Error.self) { try Squashfs.Writer(path: path, options: options) }
        #expect(!FileManager.default.fileExists(atPath: path), "nothing may be created for bad options")
    }

    @Test(arguments: [4096, 65_536, 131_072, 1_048_576])
    func goodBlockSizesAreAccepted(_ blockSize: Int) throws {
        try Squashfs.Options(blockSize: blockSize).validate()
    }

    @Test func levelsThreadsAndTimeAreChecked() {
        #expect(throws: Squashfs.Error.self) { try Squashfs.Options(compression: .zstd, level: 23).validate() }
        #expect(throws: Squashfs.Error.self) { try Squashfs.Options(compression: .gzip, level: 0).validate() }
        #expect(throws: Squashfs.Error.self) { try Squashfs.Options(threads: 0).validate() }
        #expect(throws: Squashfs.Error.self) { try Squashfs.Options(modificationTime: -1).validate() }
        #expect(throws: Squashfs.Error.self) { try Squashfs.Options(modificationTime: 1 << 33).validate() }
        #expect(throws: Never.self) { try Squashfs.Options(compression: .xz, level: 9).validate() }
        #expect(throws: Never.self) { try Squashfs.Options(compression: .lz4, level: 12).validate() }
        #expect(Squashfs.Options().blockSize == 131_072)
        #expect(Squashfs.Options().threads >= 1)
    }

    @Test func errorsNameTheLibraryCode() {
        #expect(Squashfs.Error.codeName(-2) == "SQFS_ERROR_IO")
        #expect(Squashfs.Error.codeName(-11) == "SQFS_ERROR_SUPER_BLOCK_SIZE")
        #expect(throws: Squashfs.Error.library(code: -2, codeName: "SQFS_ERROR_IO", operation: "x")) {
            try Squashfs.check(-2, "x")
        }
        #expect((try? Squashfs.check(12, "x")) == 12)
    }

    // MARK: Tree rules

    static func entry(_ path: String, _ kind: FileEntry.Kind = .regular, mode: UInt32 = 0o644,
                      uid: UInt32 = 0, mtime: Int64 = 10, target: String? = nil) -> FileEntry {
        FileEntry(path: path, kind: kind, permissions: mode, uid: uid, mtime: mtime, linkTarget: target)
    }

    @Test func firstEntryForAPathWins() {
        let tree = Squashfs.Tree(implicitTime: 99)
        guard case .inserted = tree.insert(Self.entry("a", mode: 0o600)) else { Issue.record("a"); return }
        guard case .ignored = tree.insert(Self.entry("a", mode: 0o777)) else { Issue.record("dup"); return }
        guard case .ignored = tree.insert(Self.entry("a", .directory, mode: 0o755)) else { Issue.record("dir"); return }
        guard case .ignored = tree.insert(Self.entry("a/below")) else { Issue.record("below"); return }
        #expect(tree.node(at: "a")?.permissions == 0o600)
        #expect(tree.node(at: "a")?.kind == .regular)
        #expect(tree.ignoredCount == 3)
    }

    @Test func implicitParentsAreCreatedAndCompletedOnce() {
        let tree = Squashfs.Tree(implicitTime: 99)
        _ = tree.insert(Self.entry("x/y/z"))
        let x = tree.node(at: "x"), y = tree.node(at: "x/y")
        #expect(x?.isImplicit == true && x?.permissions == 0o755 && x?.uid == 0 && x?.mtime == 99)
        #expect(y?.isImplicit == true && y?.kind == .directory)

        guard case .completed = tree.insert(Self.entry("x/y", .directory, mode: 0o700, uid: 5, mtime: 7)) else {
            Issue.record("implicit directory not completed"); return
        }
        #expect(y?.permissions == 0o700 && y?.uid == 5 && y?.mtime == 7 && y?.isImplicit == false)
        // A second directory entry for an explicit directory keeps the first one's metadata.
        guard case .ignored = tree.insert(Self.entry("x/y", .directory, mode: 0o755, uid: 6)) else {
            Issue.record("explicit directory overwritten"); return
        }
        #expect(y?.permissions == 0o700 && y?.uid == 5)
        // A non-directory where a directory exists is ignored.
        guard case .ignored = tree.insert(Self.entry("x")) else { Issue.record("file over dir"); return }
        #expect(tree.node(at: "x")?.isDirectory == true)
        #expect(tree.node(at: "x/y/z")?.kind == .regular)
    }

    @Test func rootTakesTheFirstRootEntry() {
        let tree = Squashfs.Tree(implicitTime: 1)
        _ = tree.insert(Self.entry("f"))
        _ = tree.insert(Self.entry("", .directory, mode: 0o700, mtime: 5))
        _ = tree.insert(Self.entry("", .directory, mode: 0o755, mtime: 6))
        _ = tree.insert(Self.entry("", .symlink, target: "x"))
        #expect(tree.root.permissions == 0o700 && tree.root.mtime == 5)
        #expect(tree.ignoredCount == 2)
    }

    @Test func hardLinksResolveAndShareOneInode() throws {
        let tree = Squashfs.Tree(implicitTime: 1)
        _ = tree.insert(Self.entry("l1", .hardlink, target: "d/t"))     // before its target
        _ = tree.insert(Self.entry("d/t"))
        _ = tree.insert(Self.entry("e/l2", .hardlink, target: "/l1"))   // a link to a link
        try tree.resolveHardLinks()
        let target = try #require(tree.node(at: "d/t"))
        #expect(target.linkCount == 3)
        #expect(tree.node(at: "e/l2")?.hardLinkTarget === target)

        let order = tree.numberInodes()
        #expect(order.count == 4)  // d/t, d, e, root: links add names, not inodes
        #expect(order.last === tree.root)
        #expect(Set(order.map(\.inodeNumber)) == Set(1...4))
        // Every inode comes before the directory that lists it.
        for (index, node) in order.enumerated() where node.isDirectory {
            for child in node.orderedChildren {
                let owner = child.hardLinkTarget ?? child
                #expect(order.firstIndex { $0 === owner }! < index)
            }
        }
        #expect(tree.node(at: "d")?.parentInodeNumber == tree.root.inodeNumber)
        #expect(tree.root.linkCount == 4)  // 2 + subdirectories d and e
    }

    @Test(arguments: ["missing", "d", ""])
    func unresolvableHardLinksThrow(_ target: String) {
        let tree = Squashfs.Tree(implicitTime: 1)
        _ = tree.insert(Self.entry("d/f"))
        _ = tree.insert(Self.entry("l", .hardlink, target: target))
        #expect(throws: Squashfs.Error.self) { try tree.resolveHardLinks() }
    }

    @Test func childrenSortByBytes() {
        let tree = Squashfs.Tree(implicitTime: 1)
        for name in ["b", "B", "a", "é", "Z", "_", "aa"] { _ = tree.insert(Self.entry(name)) }
        #expect(tree.root.sortedChildren.map(\.name) == ["B", "Z", "_", "a", "aa", "b", "é"])
    }

    // MARK: Writer behaviour

    static func scratchPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("livebuild-sqfs-\(UUID())-\(name)").path
    }

    static func synthetic() -> [(FileEntry, [UInt8])] {
        var entries: [(FileEntry, [UInt8])] = []
        var seed: UInt64 = 42
        func noise(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: seed >> 33)
            }
        }
        for index in 0..<120 {
            let size = [0, 1, 4096, 70_000, 300_000][index % 5] + index
            let bytes = noise(size)
            entries.append((FileEntry(path: "dir\(index % 4)/sub\(index % 3)/file\(index)", kind: .regular,
                                      permissions: 0o644, uid: UInt32(index % 5), mtime: Int64(index),
                                      size: UInt64(bytes.count),
                                      xattrs: index % 9 == 0 ? [Xattr(name: "user.n", value: [UInt8(index)])] : []),
                            bytes))
        }
        entries.append((FileEntry(path: "dir1", kind: .directory, permissions: 0o750, mtime: 3), []))
        entries.append((FileEntry(path: "link", kind: .symlink, permissions: 0o777, linkTarget: "dir1"), []))
        entries.append((FileEntry(path: "hard", kind: .hardlink, permissions: 0o644,
                                  linkTarget: "dir0/sub0/file0"), []))
        return entries
    }

    static func write(_ entries: [(FileEntry, [UInt8])], to path: String, threads: Int) throws -> Squashfs.Summary {
        let writer = try Squashfs.Writer(path: path, options: Squashfs.Options(
            compression: .zstd, level: 3, blockSize: 65_536, threads: threads, modificationTime: 1_000))
        for (entry, bytes) in entries { try writer.add(entry, bytes: bytes) }
        return try writer.finish()
    }

    @Test func sameEntriesGiveIdenticalBytes() throws {
        let entries = Self.synthetic()
        let first = Self.scratchPath("one.sqfs"), second = Self.scratchPath("two.sqfs")
        let third = Self.scratchPath("three.sqfs")
        defer { for path in [first, second, third] { try? FileManager.default.removeItem(atPath: path) } }
        let summary = try Self.write(entries, to: first, threads: 2)
        _ = try Self.write(entries, to: second, threads: 2)
        _ = try Self.write(entries, to: third, threads: 1)
        let one = try Data(contentsOf: URL(fileURLWithPath: first))
        #expect(one == (try Data(contentsOf: URL(fileURLWithPath: second))))
        #expect(one == (try Data(contentsOf: URL(fileURLWithPath: third))), "thread count must not change the image")
        #expect(UInt64(one.count) == summary.fileSize && one.count % 4096 == 0)
        #expect(summary.bytesUsed <= summary.fileSize)
        #expect(one.prefix(4) == Data("hsqs".utf8))
    }

    @Test func ignoredEntriesAreNeverRead() throws {
        let path = Self.scratchPath("ignored.sqfs")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try Squashfs.Writer(path: path, options: Squashfs.Options(threads: 1))
        try writer.add(FileEntry(path: "a", kind: .regular, permissions: 0o644, size: 1), bytes: [1])
        var read = false
        try writer.add(FileEntry(path: "a", kind: .regular, permissions: 0o644, size: 1)) { _ in read = true }
        #expect(!read)
        let summary = try writer.finish()
        #expect(summary.ignoredEntries == 1 && summary.inodeCount == 2)
        #expect(throws: Squashfs.Error.self) { try writer.add(FileEntry(path: "b", kind: .fifo, permissions: 0)) }
        #expect(throws: Squashfs.Error.self) { _ = try writer.finish() }
    }

    @Test func wrongContentSizeIsAnError() throws {
        let path = Self.scratchPath("short.sqfs")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try Squashfs.Writer(path: path, options: Squashfs.Options(threads: 1))
        #expect(throws: Squashfs.Error.sizeMismatch(path: "a", expected: 5, actual: 2)) {
            try writer.add(FileEntry(path: "a", kind: .regular, permissions: 0o644, size: 5), bytes: [1, 2])
        }
        // The writer is unusable afterwards, but tears down cleanly.
        #expect(throws: Squashfs.Error.self) { _ = try writer.finish() }
    }

    @Test func unwritablePathNamesTheCause() {
        #expect(throws: Squashfs.Error.cannotOpen(path: "/nonexistent-dir/x.sqfs", errno: ENOENT,
                                                   message: "No such file or directory")) {
            try Squashfs.Writer(path: "/nonexistent-dir/x.sqfs", options: Squashfs.Options(threads: 1))
        }
    }

    @Test func oneCallWriteFromASource() throws {
        struct Source: EntrySource {
            func write(to sink: EntrySink) throws {
                try sink.add(FileEntry(path: "a/b", kind: .regular, permissions: 0o644, size: 2), bytes: [1, 2])
                try sink.add(FileEntry(path: "a", kind: .directory, permissions: 0o700))
            }
        }
        let path = Self.scratchPath("source.sqfs")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let summary = try Squashfs.Writer.write(Source(), to: path, options: Squashfs.Options(threads: 1))
        #expect(summary.inodeCount == 3 && summary.inputBytes == 2 && summary.ignoredEntries == 0)
    }

    /// Writers dropped without `finish()`, or after an error, close their file and join their
    /// worker threads (counted in /proc/self).
    @Test func abandonedWriterReleasesEverything() throws {
        let path = Self.scratchPath("abandoned.sqfs")
        defer { try? FileManager.default.removeItem(atPath: path) }
        func count(_ directory: String) -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: directory).count) ?? -1
        }
        let descriptors = count("/proc/self/fd"), threads = count("/proc/self/task")
        for round in 0..<40 {
            let writer = try Squashfs.Writer(path: path, options: Squashfs.Options(
                compression: round % 2 == 0 ? .zstd : .lzo, threads: 2))
            try writer.add(FileEntry(path: "f", kind: .regular, permissions: 0o644, size: 200_000),
                           bytes: [UInt8](repeating: 7, count: 200_000))
            if round % 3 == 0 {
                _ = try? writer.add(FileEntry(path: "g", kind: .regular, permissions: 0o644, size: 9), bytes: [1])
            }
        }
        // A leak would add one descriptor and two threads per round; the slack absorbs tests
        // running in parallel in the same process.
        #expect(count("/proc/self/fd") - descriptors < 20)
        #expect(count("/proc/self/task") - threads < 30)
    }
}
