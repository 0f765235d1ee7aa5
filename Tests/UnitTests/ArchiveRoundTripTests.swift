import Archive
import Filesystem
import Foundation
import Testing

@Suite struct ArchiveRoundTripTests {
    static let entries: [(FileEntry, [UInt8])] = [
        (FileEntry(path: "etc", kind: .directory, permissions: 0o755, mtime: 1_600_000_000), []),
        (FileEntry(path: "etc/shadow", kind: .regular, permissions: 0o640, uid: 0, gid: 42, mtime: 1_600_000_001, size: 6), Array("secret".utf8)),
        (FileEntry(path: "usr/bin/ping", kind: .regular, permissions: 0o4755, uid: 0, gid: 0, mtime: 1_600_000_002, size: 3,
                   xattrs: [Xattr(name: "security.capability", value: [1, 0, 0, 2, 0, 0x20, 0, 0])]), [1, 2, 3]),
        (FileEntry(path: "usr/bin/sh", kind: .symlink, permissions: 0o777, mtime: 1_600_000_003, linkTarget: "dash"), []),
        (FileEntry(path: "dev/null", kind: .characterDevice, permissions: 0o666, mtime: 1_600_000_004, deviceMajor: 1, deviceMinor: 3), []),
        (FileEntry(path: "dev/sda", kind: .blockDevice, permissions: 0o660, gid: 6, mtime: 1_600_000_005, deviceMajor: 8, deviceMinor: 0), []),
        (FileEntry(path: "run/fifo", kind: .fifo, permissions: 0o600, mtime: 1_600_000_006), []),
        (FileEntry(path: "usr/bin/ping4", kind: .hardlink, permissions: 0o4755, mtime: 1_600_000_002, linkTarget: "usr/bin/ping"), []),
    ]

    func write(_ format: Archive.Format, _ filter: Archive.Filter) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lb-archive-\(UUID().uuidString)").path
        let writer = try Archive.Writer(path: path, format: format, filter: filter)
        for (entry, bytes) in Self.entries { try writer.add(entry, bytes: bytes) }
        try writer.finish()
        return path
    }

    @Test(arguments: [Archive.Filter.none, .gzip(level: 6), .xz(level: 3), .zstd(level: 3)])
    func paxRoundTripKeepsEverything(filter: Archive.Filter) throws {
        let path = try write(.pax, filter)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try Archive.Reader(path: path)
        var index = 0
        while let entry = try reader.next() {
            let (expected, bytes) = Self.entries[index]
            var comparable = entry
            if expected.kind == .hardlink { comparable.permissions = expected.permissions; comparable.mtime = expected.mtime }
            #expect(comparable == expected, "entry \(index)")
            #expect(try reader.readAll() == bytes)
            index += 1
        }
        #expect(index == Self.entries.count)
    }

    @Test func writerOutputIsDeterministic() throws {
        let a = try write(.cpioNewc, .zstd(level: 19)), b = try write(.cpioNewc, .zstd(level: 19))
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
    }

    @Test func rawDecompression() throws {
        let path = try write(.pax, .xz(level: 1))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let packed = try #require(FileManager.default.contents(atPath: path))
        let plain = try Archive.decompress(Array(packed))
        #expect(plain.count % 512 == 0 && plain.count > 0)
        #expect(Array(plain[257..<262]) == Array("ustar".utf8))
    }

    @Test func unreadableInputGivesLibarchiveMessage() throws {
        let error = #expect(throws: Archive.Error.self) { try Archive.Reader(path: "/nonexistent/base.tar") }
        #expect(error?.description.contains("/nonexistent/base.tar") == true)
    }
}
