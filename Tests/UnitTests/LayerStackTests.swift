import Filesystem
import Testing
@testable import LiveBuild

@Suite struct LayerStackTests {
    let base = ListSource([
        ListSource.directory("tmp", mode: 0o1777),
        ListSource.directory("etc"),
        ListSource.file("etc/hostname", "base\n"),
        ListSource.file("etc/motd", "base motd\n"),
        ListSource.directory("opt/app"),
        ListSource.file("opt/app/old", "old\n"),
        ListSource.file("opt/keep", "keep\n"),
        ListSource.directory("var/cache/x"),
        ListSource.file("var/cache/x/a", "a\n"),
    ])

    @Test func upperFilesWinAndWeakDirectoriesKeepBaseMetadata() throws {
        let overlay = ListSource([
            ListSource.directory("tmp", mode: 0o755),
            ListSource.file("tmp/hello", "hi\n"),
            ListSource.directory("etc"),
            ListSource.file("etc/hostname", "overlay\n"),
            ListSource.directory("srv/new", mode: 0o750),
        ])
        let sink = RecordingSink()
        try LayerStack(layers: [
            Layer(name: "overlay", source: overlay, directories: .weak),
            Layer(name: "base", source: base, directories: .strong),
        ]).write(to: sink)
        #expect(sink.text("etc/hostname") == "overlay\n")
        #expect(sink.text("etc/motd") == "base motd\n")
        #expect(sink.entries["tmp"]?.permissions == 0o1777)
        #expect(sink.text("tmp/hello") == "hi\n")
        #expect(sink.entries["srv/new"]?.permissions == 0o750, "a directory only the overlay has keeps its mode")
    }

    @Test func ociWhiteoutsAndOpaqueDirectories() throws {
        let top = ListSource([
            (FileEntry(path: "opt/.wh.keep", kind: .regular, permissions: 0o644), []),
            (FileEntry(path: "var/cache/x/.wh..wh..opq", kind: .regular, permissions: 0o644), []),
            ListSource.file("var/cache/x/b", "b\n"),
            ListSource.file("opt/app", "now a file\n"),
        ])
        let sink = RecordingSink()
        let statistics = try LayerStack(layers: [
            Layer(name: "top", source: top, directories: .strong, whiteouts: true),
            Layer(name: "base", source: base, directories: .strong, whiteouts: true),
        ]).write(to: sink)
        #expect(sink.entries["opt/keep"] == nil)
        #expect(sink.entries["var/cache/x/a"] == nil)
        #expect(sink.text("var/cache/x/b") == "b\n")
        #expect(sink.entries["var/cache/x"] != nil, "the opaque directory itself stays")
        #expect(sink.entries["opt/app"]?.kind == .regular)
        #expect(sink.entries["opt/app/old"] == nil, "a file above hides the directory below and its children")
        #expect(!sink.order.contains { $0.contains(".wh.") })
        #expect(statistics.whiteouts == 2)
    }

    @Test func permissionRulesApplyToTheWinningEntry() throws {
        let sink = RecordingSink()
        try LayerStack(layers: [Layer(name: "base", source: base, directories: .strong)],
                       permissions: [PermissionRule(path: "/etc/motd", permissions: 0o600, uid: 7, gid: 8)]).write(to: sink)
        let motd = try #require(sink.entries["etc/motd"])
        #expect(motd.permissions == 0o600 && motd.uid == 7 && motd.gid == 8)
    }

    @Test func permissionRuleForAMissingPathIsAnError() {
        let error = #expect(throws: LiveBuildError.self) {
            try LayerStack(layers: [Layer(name: "base", source: base, directories: .strong)],
                           permissions: [PermissionRule(path: "/etc/nope", permissions: 0o600)]).write(to: RecordingSink())
        }
        #expect(error?.message.contains("/etc/nope does not exist in the image") == true)
    }
}
