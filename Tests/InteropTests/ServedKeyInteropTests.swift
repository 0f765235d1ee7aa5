import Archive
import BootServer
@testable import ClusterWire
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LiveBuild
import Testing
import TestSupport

/// No key material in anything the network can fetch: a byte search of every file a head
/// serves from the cluster ISO (``ServedTree``: its PXE tree), of the build's own PXE tree
/// (`livebuild serve`), of every file inside the initramfs and inside the squashfs (read back
/// with libarchive and squashfs-tools-ng's `sqfs2tar`), for the key in hex (both cases), the key's
/// bytes and each subkey derived from it. The same search finds the key in the ISO's key image,
/// which the head never serves: the search works, and the key is where media carry it.
@Suite struct ServedKeyInteropTests {
    @Test func noServedFileHoldsKeyMaterial() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let cluster = try #require(image.manifest.cluster, "the cluster profile has a cluster section")
        let key = try #require(Wire.Keys.KeyFile.parse(try String(contentsOfFile: cluster.keyFile, encoding: .utf8)))
        let keys = try Wire.Keys(clusterKey: key)
        let hex = Wire.Keys.KeyFile.text(key).trimmingCharacters(in: .whitespacesAndNewlines)
        let search = ByteSearch(needles: [
            ("key, hex", Array(hex.utf8)), ("key, HEX", Array(hex.uppercased().utf8)), ("key, bytes", key),
            ("datagram subkey", keys.datagramBytes), ("stream subkey", keys.streamAuthBytes), ("session subkey", keys.streamSessionBytes),
        ])
        var found: [String] = []
        var searched = (files: 0, bytes: 0)
        func scan(_ name: String, _ read: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
            let hits = try search.scan(read)
            searched.files += 1
            searched.bytes += hits.bytes
            found += hits.needles.map { "\(name): \($0)" }
        }

        // The ISO: what its head serves, each file whole, and the initramfs's files unpacked.
        var keyImageHits: [String] = []
        let iso = try Archive.Reader(path: image.iso)
        while let entry = try iso.next() {
            let name = String(entry.path.drop { $0 == "/" || $0 == "." })
            guard entry.kind == .regular else { continue }
            if name == ClusterKeyImage.path {
                keyImageHits = try search.scan { try iso.readContents($0) }.needles
                continue
            }
            guard let top = name.split(separator: "/").first, ServedTree.entries.contains(String(top)) else { continue }
            try scan("ISO " + name) { try iso.readContents($0) }
        }
        #expect(keyImageHits.contains("key, hex"), "the key image on the ISO carries the key (found: \(keyImageHits)); the search would see it")

        // The build's PXE tree, which `livebuild serve` serves.
        let pxe = image.directory + "/pxe"
        let walker = FileManager.default.enumerator(atPath: pxe)
        var pxeFiles = 0
        while let relative = walker?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: pxe + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let data = try Data(contentsOf: URL(fileURLWithPath: pxe + "/" + relative), options: .alwaysMapped)
            try scan("pxe/" + relative) { try data.withUnsafeBytes($0) }
            pxeFiles += 1
        }
        #expect(pxeFiles >= PxeStage.files.count, "the PXE tree was searched (\(pxeFiles) files)")

        // Inside the (compressed) initramfs.
        let initramfs = try Archive.Reader(path: image.initramfs)
        while let entry = try initramfs.next() {
            guard entry.kind == .regular else { continue }
            try scan("initramfs " + entry.path) { try initramfs.readContents($0) }
        }

        // Inside the squashfs: every file, as sqfs2tar unpacks it, streamed through a pipe.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try SquashfsTool.locate("sqfs2tar"))
        process.arguments = ["--no-skip", image.squashfs]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var squashfsFiles = 0
        let tar = try Archive.Reader(path: "/dev/fd/\(pipe.fileHandleForReading.fileDescriptor)")
        while let entry = try tar.next() {
            guard entry.kind == .regular else { continue }
            try scan("squashfs " + entry.path) { try tar.readContents($0) }
            squashfsFiles += 1
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sqfs2tar read the whole squashfs")
        #expect(squashfsFiles > 1000, "the squashfs's files were searched (\(squashfsFiles))")

        print("served-key search: \(searched.files) files, \(searched.bytes) bytes, \(found.count) hits")
        #expect(found.isEmpty, "key material in served files: \(found)")
    }

    /// The search finds a needle inside a chunk, across a seam, and across several tiny chunks.
    @Test func byteSearchFindsNeedlesAcrossChunks() throws {
        let needle = Array("0123456789abcdef0123456789ABCDEF".utf8)
        let search = ByteSearch(needles: [("n", needle)])
        let stream = Array(repeating: UInt8(ascii: "x"), count: 1000) + needle + Array(repeating: UInt8(ascii: "y"), count: 1000)
        for size in [1, 7, 31, 32, 33, 500, 1016, 1020, 4096] {
            let result = try search.scan { body in
                var offset = 0
                while offset < stream.count {
                    let end = min(offset + size, stream.count)
                    try stream[offset..<end].withUnsafeBytes { try body($0) }
                    offset = end
                }
            }
            #expect(result.needles == ["n"] && result.bytes == stream.count, "chunks of \(size)")
        }
        var almost = needle
        almost[31] = UInt8(ascii: "-")
        #expect(try search.scan { try almost.withUnsafeBytes($0) }.needles.isEmpty)
    }
}

/// Finds any of several byte strings in a stream of chunks. Each chunk is searched where it
/// lies (``contains(_:_:)``), and the seam between chunks through a small window of the last
/// chunk's tail and the next one's head, so a match across a chunk boundary is found too
/// without copying the stream (it is about 1 GB: the search was most of this test's minute).
struct ByteSearch {
    var needles: [(name: String, bytes: [UInt8])]

    func scan(_ read: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> (needles: [String], bytes: Int) {
        let overlap = (needles.map(\.bytes.count).max() ?? 1) - 1
        var carry: [UInt8] = []
        var hits: Set<String> = []
        var total = 0
        func search(_ haystack: UnsafeRawBufferPointer) {
            for needle in needles where !hits.contains(needle.name) {
                if Self.contains(haystack, needle.bytes) { hits.insert(needle.name) }
            }
        }
        try read { chunk in
            total += chunk.count
            if !carry.isEmpty {
                let seam = carry + chunk.prefix(overlap)
                seam.withUnsafeBytes { search($0) }
            }
            search(chunk)
            carry = chunk.count >= overlap ? Array(chunk.suffix(overlap)) : Array((carry + chunk).suffix(overlap))
        }
        return (hits.sorted(), total)
    }

    /// Whether `needle` occurs in `haystack`: `memchr` to each place its first byte occurs,
    /// then `memcmp` (Glibc's `memmem` is a GNU extension Swift does not import).
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, let base = haystack.baseAddress, haystack.count >= needle.count else { return false }
        return needle.withUnsafeBytes { pattern in
            let last = base + (haystack.count - needle.count)
            var cursor = base
            while cursor <= last, let hit = memchr(cursor, Int32(first), last - cursor + 1) {
                if memcmp(hit, pattern.baseAddress!, needle.count) == 0 { return true }
                cursor = UnsafeRawPointer(hit) + 1
            }
            return false
        }
    }
}
