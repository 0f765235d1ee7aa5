import Archive
import Filesystem
import Foundation
import Testing
@testable import LiveBuild

/// OCI image layouts and `docker save` archives become layers with whiteouts applied.
@Suite struct OCIImageTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("lb-oci-\(UUID().uuidString)").path

    func layer(_ items: [(FileEntry, [UInt8])], at path: String) throws {
        let writer = try Archive.Writer(path: path, format: .pax, filter: .gzip(level: 1))
        for (entry, bytes) in items { try writer.add(entry, bytes: bytes) }
        try writer.finish()
    }

    func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    var lower: [(FileEntry, [UInt8])] {
        [ListSource.directory("etc"), ListSource.file("etc/os-release", "lower\n"), ListSource.file("etc/gone", "x\n"),
         ListSource.directory("var/cache/apt"), ListSource.file("var/cache/apt/pkgcache.bin", "cache\n")]
    }
    var upper: [(FileEntry, [UInt8])] {
        [ListSource.file("etc/os-release", "upper\n"), ListSource.file("etc/.wh.gone", ""),
         ListSource.file("var/cache/apt/.wh..wh..opq", "")]
    }

    func check(_ image: OCIImage) throws {
        let sink = RecordingSink()
        try LayerStack(layers: image.layers).write(to: sink)
        #expect(sink.text("etc/os-release") == "upper\n")
        #expect(sink.entries["etc/gone"] == nil)
        #expect(sink.entries["var/cache/apt/pkgcache.bin"] == nil)
        #expect(sink.entries["var/cache/apt"] != nil)
    }

    @Test func imageLayoutThroughAnIndex() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/blobs/sha256", withIntermediateDirectories: true)
        try layer(lower, at: root + "/blobs/sha256/aaaa")
        try layer(upper, at: root + "/blobs/sha256/bbbb")
        try write(#"{"schemaVersion":2,"layers":[{"digest":"sha256:aaaa"},{"digest":"sha256:bbbb"}]}"#, root + "/blobs/sha256/mmmm")
        try write(#"{"schemaVersion":2,"manifests":[{"digest":"sha256:mmmm","platform":{"architecture":"amd64","os":"linux"}}]}"#, root + "/index.json")
        let image = try OCIImage(path: root, scratch: root + "/scratch")
        #expect(image.layerPaths == [root + "/blobs/sha256/aaaa", root + "/blobs/sha256/bbbb"])
        try check(image)
        let error = #expect(throws: LiveBuildError.self) { try OCIImage(path: root, reference: "nosuch", scratch: root + "/s") }
        #expect(error?.message.contains("no image named 'nosuch'") == true)
    }

    @Test func dockerSaveArchive() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try layer(lower, at: root + "/l1.tar")
        try layer(upper, at: root + "/l2.tar")
        let manifest = Array(#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["one/layer.tar","two/layer.tar"]}]"#.utf8)
        let outer = try Archive.Writer(path: root + "/saved.tar", format: .pax, filter: .none)
        try outer.add(FileEntry(path: "manifest.json", kind: .regular, permissions: 0o644, size: UInt64(manifest.count)), bytes: manifest)
        for (name, file) in [("one/layer.tar", "l1.tar"), ("two/layer.tar", "l2.tar")] {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: root + "/" + file)))
            try outer.add(FileEntry(path: name, kind: .regular, permissions: 0o644, size: UInt64(bytes.count)), bytes: bytes)
        }
        try outer.finish()
        let image = try OCIImage(path: root + "/saved.tar", reference: "x:1", scratch: root + "/scratch")
        #expect(image.layerPaths.count == 2)
        try check(image)
    }

    @Test func notAnImageIsAClearError() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let error = #expect(throws: LiveBuildError.self) { try OCIImage(path: root, scratch: root + "/s") }
        #expect(error?.message.contains("has no index.json") == true)
    }
}
