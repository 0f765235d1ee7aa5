import Testing
@testable import Profile

/// `extends`: a child profile (`x.json`) over `base.json`, both in `/work/profiles`.
@Suite struct ProfileMergeTests {
    static let parent = """
        {
          "name": "base", "description": "The base",
          "base": {"debian": {"suite": "bookworm", "components": ["main", "contrib"], "packages": ["systemd-sysv", "less"]}},
          "overlays": ["overlay"],
          "permissions": {"/etc/shadow": {"mode": "0640", "group": "shadow"}, "/srv": {"owner": 1}},
          "files": [{"path": "/etc/motd", "content": "base"}, {"path": "/etc/hostname", "content": "base"}],
          "kernel": {"cmdline": ["quiet"]},
          "boot": {"timeout": 3, "entries": [{"label": "Base"}], "serial": {"port": 1}},
          "squashfs": {"compression": "xz", "level": 6},
          "outputs": ["iso", "pxe"],
          "cluster": {"role": "head", "timing": {"protocolPeriodMs": 300, "probeTimeoutMs": 100}, "peers": ["a", "b"]}
        }
        """

    static func merged(_ child: String) throws(ProfileError) -> Profile {
        try ProfileFixtures.load(child, extra: ["base.json": parent])
    }

    static func debian(_ profile: Profile) -> Profile.Debian? {
        if case .debian(let debian) = profile.base { debian } else { nil }
    }

    @Test func emptyChildInheritsEverythingButNameAndDescription() throws {
        let profile = try Self.merged("{\"name\": \"child\", \"extends\": \"base.json\"}")
        #expect(profile.name == "child")
        #expect(profile.description == nil)
        #expect(Self.debian(profile)?.suite == "bookworm")
        #expect(Self.debian(profile)?.packages == ["systemd-sysv", "less"])
        #expect(profile.overlays.map(\.path) == ["/work/profiles/overlay"])
        #expect(profile.files.map(\.path) == ["/etc/motd", "/etc/hostname"])
        #expect(profile.kernel.cmdline == ["quiet"])
        #expect(profile.boot == Profile.Boot(timeout: 3, entries: [Profile.BootEntry(label: "Base")], serial: Profile.Serial(port: 1)))
        #expect(profile.squashfs == Profile.SquashfsSettings(compression: .xz, level: 6))
        #expect(profile.outputs == [.iso, .pxe])
        #expect(profile.sources == ["/work/profiles/x.json", "/work/profiles/base.json"])
        #expect(profile.sourcePath == "/work/profiles/x.json")
    }

    @Test func appendingListsAppend() throws {
        let profile = try Self.merged("""
            {"name": "c", "extends": "base.json",
             "base": {"debian": {"packages": ["openssh-server", "less"]}},
             "overlays": ["empty-overlay"],
             "kernel": {"cmdline": ["console=ttyS0"]}}
            """)
        #expect(Self.debian(profile)?.packages == ["systemd-sysv", "less", "openssh-server"])
        #expect(profile.overlays.map(\.path) == ["/work/profiles/overlay", "/work/profiles/empty-overlay"])
        #expect(profile.kernel.cmdline == ["quiet", "console=ttyS0"])
    }

    @Test func replaceWrapperReplaces() throws {
        let profile = try Self.merged("""
            {"name": "c", "extends": "base.json",
             "base": {"debian": {"packages": {"replace": ["busybox"]}}},
             "overlays": {"replace": []},
             "files": {"replace": [{"path": "/etc/issue", "content": "c"}]},
             "kernel": {"cmdline": {"replace": ["debug"]}}}
            """)
        #expect(Self.debian(profile)?.packages == ["busybox"])
        #expect(profile.overlays.isEmpty)
        #expect(profile.files.map(\.path) == ["/etc/issue"])
        #expect(profile.kernel.cmdline == ["debug"])
    }

    @Test func otherArraysReplace() throws {
        let profile = try Self.merged("""
            {"name": "c", "extends": "base.json", "base": {"debian": {"components": ["main"]}},
             "boot": {"entries": [{"label": "Child"}]}, "outputs": ["iso"], "cluster": {"peers": ["c"]}}
            """)
        #expect(Self.debian(profile)?.components == ["main"])
        #expect(profile.boot.entries == [Profile.BootEntry(label: "Child")])
        #expect(profile.boot.timeout == 3)
        #expect(profile.outputs == [.iso])
        #expect(profile.cluster?["peers"] == .array([.string("c")]))
    }

    @Test func filesWithTheSamePathAreReplacedByTheChild() throws {
        let profile = try Self.merged("""
            {"name": "c", "extends": "base.json",
             "files": [{"path": "/etc/hostname/", "content": "child", "mode": "0600"}, {"path": "/etc/issue", "content": "c"}]}
            """)
        #expect(profile.files.map(\.path) == ["/etc/motd", "/etc/hostname", "/etc/issue"])
        #expect(profile.files[1].content == "child")
        #expect(profile.files[1].mode.rawValue == 0o600)
    }

    @Test func objectsMergeKeyByKey() throws {
        let profile = try Self.merged("""
            {"name": "c", "extends": "base.json",
             "permissions": {"/etc/shadow": {"mode": "0600"}, "/root": {"mode": "0700"}},
             "squashfs": {"level": 9}, "boot": {"serial": {"speed": 9600}},
             "cluster": {"timing": {"probeTimeoutMs": 150}, "name": "b"}}
            """)
        #expect(profile.permissions == [
            Profile.Permission(path: "/etc/shadow", mode: Profile.FileMode(rawValue: 0o600), group: .name("shadow")),
            Profile.Permission(path: "/root", mode: Profile.FileMode(rawValue: 0o700)),
            Profile.Permission(path: "/srv", owner: .id(1)),
        ])
        #expect(profile.squashfs == Profile.SquashfsSettings(compression: .xz, level: 9))
        #expect(profile.boot.serial == Profile.Serial(port: 1, speed: 9600))
        #expect(profile.cluster == .object([
            "role": .string("head"), "timing": .object(["protocolPeriodMs": .number("300"), "probeTimeoutMs": .number("150")]),
            "peers": .array([.string("a"), .string("b")]), "name": .string("b"),
        ]))
    }

    @Test func childCanSwitchTheBaseKind() throws {
        let profile = try Self.merged("{\"name\": \"c\", \"extends\": \"base.json\", \"base\": {\"tarball\": \"rootfs.tar\"}}")
        #expect(profile.base == .tarball(Profile.Tarball(path: "/work/profiles/rootfs.tar")))
    }

    @Test func chainsOfThreeMergeInOrder() throws {
        let middle = "{\"extends\": \"base.json\", \"base\": {\"debian\": {\"packages\": [\"middle\"]}}, \"squashfs\": {\"compression\": \"zstd\", \"level\": 19}}"
        let profile = try ProfileFixtures.load(
            "{\"name\": \"leaf\", \"extends\": \"mid/middle.json\", \"base\": {\"debian\": {\"packages\": [\"leaf\"]}}}",
            extra: ["mid/middle.json": middle.replacingOccurrences(of: "base.json", with: "../base.json"), "base.json": Self.parent])
        #expect(Self.debian(profile)?.packages == ["systemd-sysv", "less", "middle", "leaf"])
        #expect(profile.squashfs == Profile.SquashfsSettings(compression: .zstd, level: 19))
        #expect(profile.sources == ["/work/profiles/x.json", "/work/profiles/mid/middle.json", "/work/profiles/base.json"])
    }

    @Test func relativePathsResolveAgainstTheFileThatWroteThem() throws {
        let base = "{\"base\": {\"tarball\": \"../rootfs.tar\"}, \"overlays\": [\"../overlay\"]}"
        let profile = try ProfileFixtures.load(
            "{\"name\": \"c\", \"extends\": \"lib/base.json\", \"overlays\": [\"empty-overlay\"]}",
            extra: ["lib/base.json": base])
        #expect(profile.base == .tarball(Profile.Tarball(path: "/work/profiles/rootfs.tar")))
        #expect(profile.overlays.map(\.path) == ["/work/profiles/overlay", "/work/profiles/empty-overlay"])
    }
}

extension ProfileMergeTests {
    @Test func permissionPathsThatDifferOnlyInSpellingCollideAcrossFiles() throws {
        let (child, line, column) = try #require(ProfileFixtures.locate(
            "{\"name\": \"c\", \"extends\": \"base.json\", \"permissions\": {‸\"/etc//shadow/\": {\"mode\": \"0600\"}}}"))
        let error = try #require(throws: ProfileError.self) { try Self.merged(child) }
        #expect(error.file == "profiles/x.json" && error.line == line && error.column == column)
        #expect(error.jsonPath == "permissions[\"/etc//shadow/\"]")
        #expect(error.message == "duplicate path \"/etc/shadow\"; first given at profiles/base.json:5:19")
    }
}

extension ProfileMergeTests {
    @Test func nullRemovesWhatTheParentSet() throws {
        let parent = Self.parent.replacingOccurrences(
            of: "\"outputs\": [\"iso\", \"pxe\"],", with: "\"outputs\": [\"iso\", \"disk\"], \"disk\": {\"format\": \"qcow2\"},")
        let profile = try ProfileFixtures.load("""
            {"name": "c", "extends": "base.json", "outputs": ["iso"], "disk": null,
             "cluster": {"timing": {"probeTimeoutMs": null}, "peers": null}}
            """, extra: ["base.json": parent])
        #expect(profile.outputs == [.iso])
        #expect(profile.disk == Profile.Disk())
        #expect(profile.cluster == .object(["role": .string("head"), "timing": .object(["protocolPeriodMs": .number("300")])]))
    }

    @Test func withoutTheRemovalTheParentsDiskBlockIsAnError() throws {
        let parent = Self.parent.replacingOccurrences(
            of: "\"outputs\": [\"iso\", \"pxe\"],", with: "\"outputs\": [\"iso\", \"disk\"], \"disk\": {\"format\": \"qcow2\"},")
        let error = try #require(throws: ProfileError.self) {
            try ProfileFixtures.load("{\"name\": \"c\", \"extends\": \"base.json\", \"outputs\": [\"iso\"]}", extra: ["base.json": parent])
        }
        #expect(error.message.contains("outputs has no \"disk\""))
    }

    @Test func nullInAProfileThatExtendsNothingIsAnError() throws {
        let (text, line, column) = try #require(ProfileFixtures.locate(
            "{\"name\": \"c\", \"base\": {\"tarball\": \"rootfs.tar\"}, \"disk\": ‸null}"))
        let error = try #require(throws: ProfileError.self) { try ProfileFixtures.load(text) }
        #expect(error.file == "profiles/x.json" && error.line == line && error.column == column)
        #expect(error.jsonPath == "disk")
        #expect(error.message == "null removes a setting inherited through \"extends\", but this profile extends none; remove the key")
    }
}
