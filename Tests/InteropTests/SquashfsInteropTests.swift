import Foundation
import Testing
import Filesystem
import Squashfs

/// Writes images with `Squashfs.Writer` and reads them back with squashfs-tools-ng
/// (`sqfs2tar`, `rdsquashfs`), squashfs-tools (`unsquashfs`) and Python's tarfile.
@Suite struct SquashfsInteropTests {
    static func write(_ fixture: SquashfsFixture, to path: String, options: Squashfs.Options) throws -> Squashfs.Summary {
        let writer = try Squashfs.Writer(path: path, options: options)
        for item in fixture.items {
            try writer.add(item.entry, bytes: item.bytes)
        }
        return try writer.finish()
    }

    static func sha256(_ bytes: [UInt8]) throws -> String {
        let scratch = try SquashfsScratch()
        let file = scratch.file("blob")
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let output = try SquashfsTool.run("sha256sum", [file])
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }

    @Test func everyKindRoundTripsThroughSqfs2tar() throws {
        let scratch = try SquashfsScratch()
        let image = scratch.file("fixture.sqfs")
        let fixture = SquashfsFixture()
        let options = Squashfs.Options(compression: .zstd, blockSize: SquashfsFixture.blockSize, threads: 2,
                                       modificationTime: SquashfsFixture.imageTime)
        let summary = try Self.write(fixture, to: image, options: options)
        #expect(summary.ignoredEntries == fixture.ignoredCount)
        #expect(summary.skippedXattrs == 1)
        #expect(summary.fileSize % 4096 == 0)
        #expect(summary.duplicateBlocks >= 2)
        #expect(summary.sparseBlocks == 2)

        let tar = scratch.file("out.tar")
        try SquashfsTool.run("sqfs2tar", ["-r", ".", image], stdoutTo: tar)
        let members = try SquashfsTool.tarMembers(tar)
        var byPath: [String: SquashfsTool.TarMember] = [:]
        for member in members { byPath[member.path] = member }

        let winners = fixture.winners
        // Sockets cannot be stored in tar; checked below with unsquashfs.
        let tarPaths = Set(winners.keys.filter { winners[$0]?.entry.kind != .socket })
            .union(SquashfsFixture.implicitDirectories)
        #expect(Set(byPath.keys) == tarPaths)
        #expect(summary.inodeCount == tarPaths.count + 1 - 3)  // + socket, - 3 hard links

        var hardLinkClasses: [String: Set<String>] = [:]
        for (path, item) in winners where item.entry.kind == .hardlink {
            let target = item.entry.linkTarget ?? ""
            hardLinkClasses[target, default: [target]].insert(path)
        }
        for (path, item) in winners {
            var entry = item.entry
            if entry.kind == .hardlink, let target = winners[entry.linkTarget ?? ""] {
                entry = target.entry  // a hard link has its target's inode
            }
            if entry.kind == .socket { continue }
            guard let member = byPath[path] else { Issue.record("missing \(path)"); continue }
            // sqfs2tar stores one name of a hard-linked inode in full and links the others to it.
            if member.type == "hardlink" { continue }
            #expect(member.type == entry.kind.rawValue, "type of \(path)")
            #expect(member.mode == entry.permissions, "mode of \(path)")
            #expect(member.uid == entry.uid && member.gid == entry.gid, "owner of \(path)")
            #expect(member.mtime == entry.mtime, "mtime of \(path)")
            let storable = entry.xattrs.filter { !$0.name.hasPrefix("system.") }
            let expected = Dictionary(uniqueKeysWithValues: storable.map {
                ($0.name, $0.value.map { String(format: "%02x", $0) }.joined())
            })
            #expect(member.xattrs == expected, "xattrs of \(path)")
            switch entry.kind {
            case .regular:
                if member.type == "regular" {
                    #expect(member.size == entry.size, "size of \(path)")
                    let bytes = item.entry.kind == .hardlink ? winners[entry.path]?.bytes ?? [] : item.bytes
                    #expect(member.sha256 == (try Self.sha256(bytes)), "contents of \(path)")
                }
            case .symlink:
                #expect(member.linkname == entry.linkTarget, "target of \(path)")
            case .characterDevice, .blockDevice:
                #expect(member.devmajor == entry.deviceMajor && member.devminor == entry.deviceMinor, "device \(path)")
            default: break
            }
        }
        for path in SquashfsFixture.implicitDirectories {
            let member = byPath[path]
            #expect(member?.type == "directory" && member?.mode == 0o755, "implicit \(path)")
            #expect(member?.uid == 0 && member?.gid == 0 && member?.mtime == SquashfsFixture.imageTime, "implicit \(path)")
        }

        // Hard links: sqfs2tar emits one regular member and links to it; the classes must match.
        var actualClasses: [String: Set<String>] = [:]
        for member in members where member.type == "hardlink" {
            actualClasses[member.linkname, default: [member.linkname]].insert(member.path)
        }
        #expect(Set(actualClasses.values) == Set(hardLinkClasses.values))

        // nlink, from the inode itself.
        let stat = String(decoding: try SquashfsTool.run("rdsquashfs", ["-s", "/hl/two", image]), as: UTF8.self)
        #expect(stat.contains("Hard link count: 3"))
        let late = String(decoding: try SquashfsTool.run("rdsquashfs", ["-s", "/early-link", image]), as: UTF8.self)
        #expect(late.contains("Hard link count: 2"))
        let contents = try SquashfsTool.run("rdsquashfs", ["-c", "/other/three", image])
        #expect(Array(contents) == Array("linked\n".utf8))
        let xattrs = String(decoding: try SquashfsTool.run("rdsquashfs", ["-x", "/hl/two", image]), as: UTF8.self)
        #expect(xattrs.contains("user.foo=bar"))
    }

    /// squashfs-tools reads the image independently; its long listing must agree.
    @Test func unsquashfsListsEveryEntry() throws {
        let scratch = try SquashfsScratch()
        let image = scratch.file("fixture.sqfs")
        let fixture = SquashfsFixture()
        _ = try Self.write(fixture, to: image, options: Squashfs.Options(
            blockSize: SquashfsFixture.blockSize, threads: 1, modificationTime: SquashfsFixture.imageTime))
        let listing = String(decoding: try SquashfsTool.run("unsquashfs", ["-lln", image]), as: UTF8.self)
        var lines: [String: String] = [:]
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            guard let start = line.range(of: " squashfs-root/") else { continue }
            var path = String(line[start.upperBound...])
            if let arrow = path.range(of: " -> ") { path = String(path[..<arrow.lowerBound]) }
            lines[path] = String(line)
        }
        for (path, item) in fixture.winners where !path.isEmpty {
            let entry = item.entry
            guard let line = lines[path] else { Issue.record("unsquashfs does not list \(path)"); continue }
            let effective = entry.kind == .hardlink ? fixture.winners[entry.linkTarget ?? ""]?.entry ?? entry : entry
            #expect(line.hasPrefix(Self.lsMode(effective)), "\(line) vs \(Self.lsMode(effective))")
            #expect(line.contains(" \(effective.uid)/\(effective.gid) "), "\(line)")
            if entry.kind == .symlink {
                #expect(line.hasSuffix(" -> \(entry.linkTarget ?? "")"), "\(line)")
            }
            // unsquashfs 4.5 prints `rdev >> 8` as the major, so only small minors read back plainly
            // (sqfs2tar and the kernel decode larger ones correctly; the tar test checks them).
            if entry.kind == .characterDevice || entry.kind == .blockDevice, entry.deviceMinor < 256 {
                #expect(line.contains(" \(entry.deviceMajor),"), "\(line)")
            }
        }
    }

    @Test(arguments: Squashfs.Compression.allCases)
    func everyCompressorRoundTrips(_ compression: Squashfs.Compression) throws {
        let scratch = try SquashfsScratch()
        let image = scratch.file("c.sqfs")
        let big = squashfsNoise(count: 300_000, seed: 7) + [UInt8](repeating: 65, count: 200_000)
        let options = Squashfs.Options(compression: compression, blockSize: 65_536, threads: 2, modificationTime: 1)
        let writer = try Squashfs.Writer(path: image, options: options)
        try writer.add(FileEntry(path: "big", kind: .regular, permissions: 0o644, size: UInt64(big.count)), bytes: big)
        try writer.add(FileEntry(path: "d/small", kind: .regular, permissions: 0o600, size: 5), bytes: Array("hello".utf8))
        _ = try writer.finish()

        let info = String(decoding: try SquashfsTool.run("unsquashfs", ["-s", image]), as: UTF8.self)
        #expect(info.contains("Compression \(compression.rawValue)"), "\(info)")
        #expect(info.contains("Block size 65536"))
        let back = try SquashfsTool.run("rdsquashfs", ["-c", "/big", image])
        #expect(Array(back) == big)
        let small = try SquashfsTool.run("rdsquashfs", ["-c", "/d/small", image])
        #expect(Array(small) == Array("hello".utf8))
    }

    /// Non-default levels are stored as compressor options that both tool suites read.
    @Test(arguments: [(Squashfs.Compression.lzo, UInt32(4)), (.xz, 9), (.gzip, 1), (.zstd, 3), (.lz4, 1)])
    func compressorOptionsAreReadable(_ compression: Squashfs.Compression, _ level: UInt32) throws {
        let scratch = try SquashfsScratch()
        let image = scratch.file("o.sqfs")
        let writer = try Squashfs.Writer(path: image, options: Squashfs.Options(
            compression: compression, level: level, threads: 2))
        let bytes = squashfsNoise(count: 200_000, seed: 3) + [UInt8](repeating: 1, count: 100_000)
        try writer.add(FileEntry(path: "f", kind: .regular, permissions: 0o644, size: UInt64(bytes.count)), bytes: bytes)
        _ = try writer.finish()
        let info = String(decoding: try SquashfsTool.run("unsquashfs", ["-s", image]), as: UTF8.self)
        #expect(info.contains("Compression \(compression.rawValue)"), "\(info)")
        if compression != .lz4, compression != .xz {  // xz options hold dictionary and filters only
            #expect(info.contains("level \(level)") || info.contains("level: \(level)"), "\(info)")
        }
        #expect(Array(try SquashfsTool.run("rdsquashfs", ["-c", "/f", image])) == bytes)
        let scratchTar = scratch.file("o.tar")
        try SquashfsTool.run("sqfs2tar", [image], stdoutTo: scratchTar)
        #expect(try SquashfsTool.tarMembers(scratchTar).first?.size == UInt64(bytes.count))
    }

    @Test func exportTableIsAccepted() throws {
        let scratch = try SquashfsScratch()
        let image = scratch.file("e.sqfs")
        let writer = try Squashfs.Writer(path: image, options: Squashfs.Options(threads: 1, exportable: true))
        try writer.add(FileEntry(path: "a/b", kind: .regular, permissions: 0o644, size: 3), bytes: [1, 2, 3])
        _ = try writer.finish()
        let info = String(decoding: try SquashfsTool.run("unsquashfs", ["-s", image]), as: UTF8.self)
        #expect(info.contains("Filesystem is exportable via NFS"), "\(info)")
        #expect(Array(try SquashfsTool.run("rdsquashfs", ["-c", "/a/b", image])) == [1, 2, 3])
    }

    /// `ls -l` style mode string, as unsquashfs prints it.
    static func lsMode(_ entry: FileEntry) -> String {
        let type: Character
        switch entry.kind {
        case .regular, .hardlink: type = "-"
        case .directory: type = "d"
        case .symlink: type = "l"
        case .characterDevice: type = "c"
        case .blockDevice: type = "b"
        case .fifo: type = "p"
        case .socket: type = "s"
        }
        let p = entry.permissions
        func triple(_ shift: UInt32, special: Bool, on: Character, off: Character) -> String {
            let r: Character = p & (4 << shift) != 0 ? "r" : "-"
            let w: Character = p & (2 << shift) != 0 ? "w" : "-"
            let executable = p & (1 << shift) != 0
            let x: Character = special ? (executable ? on : off) : (executable ? "x" : "-")
            return String([r, w, x])
        }
        return String(type) + triple(6, special: p & 0o4000 != 0, on: "s", off: "S")
            + triple(3, special: p & 0o2000 != 0, on: "s", off: "S")
            + triple(0, special: p & 0o1000 != 0, on: "t", off: "T")
    }
}
