import Testing
@testable import Profile

/// One bad profile: where the error must point (‸ in the text) and what it must say.
struct BadProfile: Sendable, CustomStringConvertible {
    var name: String
    var marked: String
    var path: String
    var message: String
    var description: String { name }
}

@Suite struct ProfileErrorTests {
    static let cases: [BadProfile] = [
        BadProfile(
            name: "malformed JSON", marked: "{\"name\": \"x\",\n \"base\": {\"debian\": {}}\n ‸\"boot\": {}}",
            path: "", message: "unexpected '\"'; expected ',' or '}'"),
        BadProfile(
            name: "duplicate JSON key", marked: "{\"name\": \"x\", ‸\"name\": \"y\"}",
            path: "name", message: "duplicate key \"name\""),
        BadProfile(
            name: "not an object", marked: "‸[]", path: "", message: "expected a JSON object at the top level, found an array"),
        BadProfile(
            name: "unknown top-level key", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, ‸\"bot\": {}}",
            path: "bot", message: "unknown key \"bot\"; did you mean \"boot\"?"),
        BadProfile(
            name: "unknown nested key", marked: "{\"name\": \"x\", \"base\": {\"debian\": {‸\"packges\": []}}}",
            path: "base.debian.packges", message: "unknown key \"packges\"; did you mean \"packages\"?"),
        BadProfile(
            name: "unknown key, nothing close", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"squashfs\": {‸\"zzz\": 1}}",
            path: "squashfs.zzz", message: "unknown key \"zzz\"; expected one of \"compression\", \"level\" or \"blockSize\""),
        BadProfile(
            name: "wrong type: label", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}},\n \"boot\": {\"entries\": [{\"label\": ‸5}]}}",
            path: "boot.entries[0].label", message: "expected a string, found a number (5)"),
        BadProfile(
            name: "wrong type: packages", marked: "{\"name\": \"x\", \"base\": {\"debian\": {\"packages\": ‸\"vim\"}}}",
            path: "base.debian.packages", message: "expected an array, found a string"),
        BadProfile(
            name: "wrong type: package item", marked: "{\"name\": \"x\", \"base\": {\"debian\": {\"packages\": [\"a\", \"b\", ‸7]}}}",
            path: "base.debian.packages[2]", message: "expected a string, found a number (7)"),
        BadProfile(
            name: "wrong type: recommends", marked: "{\"name\": \"x\", \"base\": {\"debian\": {\"recommends\": ‸\"yes\"}}}",
            path: "base.debian.recommends", message: "expected true or false, found a string"),
        BadProfile(
            name: "missing name", marked: "‸{\"base\": {\"debian\": {}}}", path: "", message: "missing required key \"name\""),
        BadProfile(
            name: "missing base", marked: "‸{\"name\": \"x\"}", path: "", message: "missing required key \"base\""),
        BadProfile(
            name: "missing label", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"boot\": {\"entries\": [‸{\"cmdline\": []}]}}",
            path: "boot.entries[0]", message: "missing required key \"label\""),
        BadProfile(
            name: "missing file content", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"files\": [‸{\"path\": \"/etc/a\"}]}",
            path: "files[0]", message: "missing required key \"content\""),
        BadProfile(
            name: "both base kinds", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}, ‸\"tarball\": \"rootfs.tar\"}}",
            path: "base", message: "expected exactly one of \"debian\", \"tarball\" or \"oci\", found both \"debian\" and \"tarball\""),
        BadProfile(
            name: "neither base kind", marked: "{\"name\": \"x\", \"base\": ‸{}}",
            path: "base", message: "expected exactly one of \"debian\", \"tarball\" or \"oci\", found none"),
        BadProfile(
            name: "unknown base kind", marked: "{\"name\": \"x\", \"base\": {‸\"debain\": {}}}",
            path: "base.debain", message: "did you mean \"debian\"?"),
        BadProfile(
            name: "tarball missing", marked: "{\"name\": \"x\", \"base\": {\"tarball\": {\"path\": ‸\"nope.tar\"}}}",
            path: "base.tarball.path", message: "tarball \"nope.tar\" not found (looked for /work/profiles/nope.tar)"),
        BadProfile(
            name: "oci missing", marked: "{\"name\": \"x\", \"base\": {\"oci\": {\"path\": ‸\"img\"}}}",
            path: "base.oci.path", message: "OCI image \"img\" not found"),
        BadProfile(
            name: "unknown variant", marked: "{\"name\": \"x\", \"base\": {\"debian\": {\"variant\": ‸\"minbse\"}}}",
            path: "base.debian.variant", message: "unknown variant \"minbse\"; expected one of \"extract\""),
        BadProfile(
            name: "unsupported architecture", marked: "{\"name\": \"x\", \"base\": {\"debian\": {\"architecture\": ‸\"arm64\"}}}",
            path: "base.debian.architecture", message: "unknown architecture \"arm64\"; expected one of \"amd64\""),
        BadProfile(
            name: "bad mirror", marked: "{\"name\": \"x\", \"base\": {\"debian\": {\"mirror\": ‸\"deb.debian.org\"}}}",
            path: "base.debian.mirror", message: "expected an http://, https:// or file:// URL"),
        BadProfile(
            name: "bad package", marked: "{\"name\": \"x\", \"base\": {\"debian\": {\"packages\": [‸\"vim less\"]}}}",
            path: "base.debian.packages[0]", message: "invalid package \"vim less\""),
        BadProfile(
            name: "overlay missing", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"overlays\": [\"overlay\", ‸\"missing\"]}",
            path: "overlays[1]", message: "overlay directory \"missing\" not found (looked for /work/profiles/missing)"),
        BadProfile(
            name: "overlay is a file", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"overlays\": [‸\"rootfs.tar\"]}",
            path: "overlays[0]", message: "overlay \"rootfs.tar\" is not a directory"),
        BadProfile(
            name: "unknown compressor", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"squashfs\": {\"compression\": ‸\"zlib\"}}",
            path: "squashfs.compression",
            message: "unknown compressor \"zlib\"; expected one of \"zstd\", \"xz\", \"gzip\", \"lz4\" or \"lzo\""),
        BadProfile(
            name: "zstd level out of range", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"squashfs\": {\"level\": ‸23}}",
            path: "squashfs.level", message: "level 23 is out of range for zstd; expected 1 to 22"),
        BadProfile(
            name: "xz level out of range",
            marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"squashfs\": {\"compression\": \"xz\", \"level\": ‸10}}",
            path: "squashfs.level", message: "level 10 is out of range for xz; expected 0 to 9"),
        BadProfile(
            name: "gzip level zero",
            marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"squashfs\": {\"compression\": \"gzip\", \"level\": ‸0}}",
            path: "squashfs.level", message: "level 0 is out of range for gzip; expected 1 to 9"),
        BadProfile(
            name: "lz4 takes no level",
            marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"squashfs\": {\"compression\": \"lz4\", \"level\": ‸1}}",
            path: "squashfs.level", message: "lz4 takes no level"),
        BadProfile(
            name: "level not an integer", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"squashfs\": {\"level\": ‸1.5}}",
            path: "squashfs.level", message: "expected an integer, found 1.5"),
        BadProfile(
            name: "block size not a power of two",
            marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"squashfs\": {\"blockSize\": ‸100000}}",
            path: "squashfs.blockSize", message: "block size 100000 is not a power of two"),
        BadProfile(
            name: "block size too small", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"squashfs\": {\"blockSize\": ‸2048}}",
            path: "squashfs.blockSize", message: "block size 2048 is out of range; expected a power of two from 4096 to 1048576"),
        BadProfile(
            name: "invalid mode string",
            marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"files\": [{\"path\": \"/a\", \"content\": \"\", \"mode\": ‸\"0999\"}]}",
            path: "files[0].mode", message: "invalid mode \"0999\"; expected 3 or 4 octal digits"),
        BadProfile(
            name: "mode as a number",
            marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"permissions\": {\"/etc/shadow\": {\"mode\": ‸640}}}",
            path: "permissions[\"/etc/shadow\"].mode",
            message: "expected an octal string like \"0644\" (JSON numbers are decimal), found a number (640)"),
        BadProfile(
            name: "duplicate file paths",
            marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"files\": [\n {\"path\": \"/etc/hosts\", \"content\": \"\"},\n {\"path\": ‸\"/etc//hosts/\", \"content\": \"\"}]}",
            path: "files[1].path", message: "duplicate path \"/etc/hosts\"; first given at files[0].path (2:11)"),
        BadProfile(
            name: "relative file path",
            marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"files\": [{\"path\": ‸\"etc/hosts\", \"content\": \"\"}]}",
            path: "files[0].path", message: "\"etc/hosts\" is relative; expected an absolute path in the image like \"/etc/hosts\""),
        BadProfile(
            name: "file path with ..",
            marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"files\": [{\"path\": ‸\"/etc/../x\", \"content\": \"\"}]}",
            path: "files[0].path", message: "contains \"..\""),
        BadProfile(
            name: "bad name", marked: "{\"name\": ‸\"My Live\", \"base\": {\"debian\": {}}}",
            path: "name", message: "invalid name \"My Live\"; expected lowercase letters"),
        BadProfile(
            name: "empty name", marked: "{\"name\": ‸\"\", \"base\": {\"debian\": {}}}",
            path: "name", message: "expected a name, found an empty string"),
        BadProfile(
            name: "relative permission path", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"permissions\": {‸\"etc/shadow\": {\"mode\": \"0640\"}}}",
            path: "permissions[\"etc/shadow\"]", message: "\"etc/shadow\" is relative"),
        BadProfile(
            name: "empty permission", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"permissions\": {\"/etc\": ‸{}}}",
            path: "permissions[\"/etc\"]", message: "expected at least one of \"mode\", \"owner\" or \"group\""),
        BadProfile(
            name: "bad owner", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"permissions\": {\"/etc\": {\"owner\": ‸\"Root User\"}}}",
            path: "permissions[\"/etc\"].owner", message: "invalid user name \"Root User\""),
        BadProfile(
            name: "negative group id", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"permissions\": {\"/etc\": {\"group\": ‸-1}}}",
            path: "permissions[\"/etc\"].group", message: "group id -1 is out of range"),
        BadProfile(
            name: "kernel argument with space", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"kernel\": {\"cmdline\": [‸\"quiet splash\"]}}",
            path: "kernel.cmdline[0]", message: "contains whitespace; write one argument per array element"),
        BadProfile(
            name: "timeout out of range", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"boot\": {\"timeout\": ‸-1}}",
            path: "boot.timeout", message: "timeout -1 is out of range; expected 0 to 3600"),
        BadProfile(
            name: "no boot entries", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"boot\": {\"entries\": ‸[]}}",
            path: "boot.entries", message: "expected at least one boot entry"),
        BadProfile(
            name: "serial speed", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"boot\": {\"serial\": {\"speed\": ‸9601}}}",
            path: "boot.serial.speed", message: "unsupported speed 9601"),
        BadProfile(
            name: "unknown output", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"outputs\": [\"iso\", ‸\"img\"]}",
            path: "outputs[1]", message: "unknown output \"img\"; expected one of \"iso\", \"pxe\" or \"disk\""),
        BadProfile(
            name: "duplicate output", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"outputs\": [\"iso\", ‸\"iso\"]}",
            path: "outputs[1]", message: "duplicate output \"iso\""),
        BadProfile(
            name: "cluster not an object", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": ‸[1]}",
            path: "cluster", message: "expected an object, found an array"),
        BadProfile(
            name: "cluster unknown key", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {‸\"peer\": []}}",
            path: "cluster.peer", message: "unknown key \"peer\"; did you mean \"peers\"?"),
        BadProfile(
            name: "cluster role", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"role\": ‸\"worker\"}}",
            path: "cluster.role", message: "unknown role \"worker\"; expected one of \"node\" or \"head\""),
        BadProfile(
            name: "cluster port range", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"port\": ‸70000}}",
            path: "cluster.port", message: "port 70000 is out of range; expected 1 to 65535"),
        BadProfile(
            name: "cluster key missing", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"key\": ‸\"nope.key\"}}",
            path: "cluster.key", message: "cluster key file \"nope.key\" not found"),
        BadProfile(
            name: "cluster head dhcp range", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"head\": {\"dhcpRange\": ‸\"10.0.0.10-10.0.0.20\"}}}",
            path: "cluster.head.dhcpRange", message: "is not a DHCP range; expected FIRST,LAST or FIRST,LAST,NETMASK"),
        BadProfile(
            name: "cluster shared relative path", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"shared\": {\"path\": ‸\"home\"}}}",
            path: "cluster.shared.path", message: "must be an absolute path below /"),
        BadProfile(
            name: "cluster shared unknown key", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"shared\": {‸\"dir\": \"/home\"}}}",
            path: "cluster.shared.dir", message: "unknown key \"dir\""),
        BadProfile(
            name: "cluster multicast group", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"multicastGroup\": ‸\"10.0.0.1\"}}",
            path: "cluster.multicastGroup", message: "is not an IPv4 multicast address"),
        BadProfile(
            name: "cluster node rule without match", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"nodes\": [‸{\"hostname\": \"a\"}]}}",
            path: "cluster.nodes[0]", message: "missing required key \"match\""),
        BadProfile(
            name: "cluster node rule bad mac", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"nodes\": [{\"match\": {\"mac\": ‸\"52:54\"}}]}}",
            path: "cluster.nodes[0].match.mac", message: "is not a MAC address"),
        BadProfile(
            name: "cluster node rule bad address", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"nodes\": [{\"match\": {\"serial\": \"s\"}, \"address\": ‸\"10.0.0.5\"}]}}",
            path: "cluster.nodes[0].address", message: "is not an IPv4 address with prefix length"),
        BadProfile(
            name: "cluster probe timeout above period", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"timing\": {\"protocolPeriodMs\": 100, \"probeTimeoutMs\": ‸150}}}",
            path: "cluster.timing.probeTimeoutMs", message: "must be shorter than protocolPeriodMs 100"),
        BadProfile(
            name: "cluster ssh key", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"cluster\": {\"sshAuthorizedKeys\": [‸\"AAAA\"]}}",
            path: "cluster.sshAuthorizedKeys[0]", message: "expected an OpenSSH public key line"),
        BadProfile(
            name: "disk format", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"outputs\": [\"disk\"], \"disk\": {\"format\": ‸\"vmdk\"}}",
            path: "disk.format", message: "\"vmdk\""),
        BadProfile(
            name: "disk persistence size without unit", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"outputs\": [\"disk\"], \"disk\": {\"persistence\": ‸\"512\"}}",
            path: "disk.persistence", message: "invalid size \"512\"; expected a whole number with a unit, like \"512MiB\""),
        BadProfile(
            name: "disk persistence too small", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"outputs\": [\"disk\"], \"disk\": {\"persistence\": ‸\"8MiB\"}}",
            path: "disk.persistence", message: "too small"),
        BadProfile(
            name: "disk margin", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"outputs\": [\"disk\"], \"disk\": {\"margin\": ‸-5}}",
            path: "disk.margin", message: "margin (percent) -5 is out of range; expected 0 to 400"),
        BadProfile(
            name: "disk settings without disk output", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"disk\": ‸{\"format\": \"raw\"}}",
            path: "disk", message: "outputs has no \"disk\""),
        BadProfile(
            name: "pxe root", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"outputs\": [\"pxe\"], \"pxe\": {\"root\": ‸\"nbd\"}}",
            path: "pxe.root", message: "unknown PXE root \"nbd\"; expected one of"),
        BadProfile(
            name: "pxe node MAC", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"outputs\": [\"pxe\"], \"pxe\": {\"nodes\": [{\"mac\": ‸\"52:54:00\", \"root\": \"nfs\"}]}}",
            path: "pxe.nodes[0].mac", message: "\"52:54:00\" is not a MAC address like 52:54:00:12:34:56"),
        BadProfile(
            name: "pxe node twice", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"outputs\": [\"pxe\"], \"pxe\": {\"nodes\": [{\"mac\": \"52:54:00:00:00:01\", \"root\": \"nfs\"}, {\"mac\": ‸\"52-54-00-00-00-01\", \"root\": \"http\"}]}}",
            path: "pxe.nodes[1].mac", message: "MAC 52:54:00:00:00:01 is given twice in pxe.nodes"),
        BadProfile(
            name: "pxe node without root", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"outputs\": [\"pxe\"], \"pxe\": {\"nodes\": [‸{\"mac\": \"52:54:00:00:00:01\"}]}}",
            path: "pxe.nodes[0]", message: "missing required key \"root\" (\"http\" or \"nfs\")"),
        BadProfile(
            name: "pxe settings without pxe output", marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"pxe\": ‸{\"root\": \"nfs\"}}",
            path: "pxe", message: "outputs has no \"pxe\""),
        BadProfile(
            name: "replace wrapper with another key",
            marked: "{\"name\": \"x\", \"base\": {\"debian\": {}}, \"overlays\": {‸\"replce\": []}}",
            path: "overlays.replce", message: "did you mean \"replace\"?"),
    ]

    @Test(arguments: cases)
    func rejects(bad: BadProfile) throws {
        let (text, line, column) = try #require(ProfileFixtures.locate(bad.marked), "no ‸ marker")
        let error = try #require(throws: ProfileError.self) { try ProfileFixtures.load(text) }
        #expect(error.file == "profiles/x.json", "\(error)")
        #expect(error.jsonPath == bad.path, "\(error)")
        #expect(error.line == line && error.column == column, "\(error)")
        #expect(error.message.contains(bad.message), "\(error)")
    }

    @Test func descriptionReadsLikeACompilerMessage() {
        let error = ProfileError(
            file: "profiles/x.json", jsonPath: "boot.entries[0].label", line: 12, column: 5, message: "expected a string, found a number")
        #expect(error.description == "profiles/x.json:12:5: boot.entries[0].label: expected a string, found a number")
        #expect(ProfileError(file: "a.json", message: "cannot read").description == "a.json: cannot read")
    }

    @Test func missingProfileFile() throws {
        let error = try #require(throws: ProfileError.self) {
            try ProfileLoader.load(path: "profiles/none.json", fileSystem: ProfileFixtures.fileSystem([:]))
        }
        #expect(error.description == "profiles/none.json: cannot read profile (/work/profiles/none.json): no such file")
    }

    @Test func extendsMissingFile() throws {
        let (text, line, column) = try #require(ProfileFixtures.locate("{\"extends\": ‸\"nope.json\", \"name\": \"x\"}"))
        let error = try #require(throws: ProfileError.self) { try ProfileFixtures.load(text) }
        #expect(error.jsonPath == "extends")
        #expect(error.line == line && error.column == column)
        #expect(error.message == "cannot read extended profile \"nope.json\" (/work/profiles/nope.json): no such file")
    }

    @Test func extendsCycleShowsTheChain() throws {
        let (b, line, column) = try #require(ProfileFixtures.locate("{\n  \"extends\": ‸\"x.json\"\n}"))
        let error = try #require(throws: ProfileError.self) {
            try ProfileFixtures.load("{\"name\": \"x\", \"extends\": \"sub/../b.json\"}", extra: ["b.json": b])
        }
        #expect(error.file == "profiles/b.json")
        #expect(error.line == line && error.column == column)
        #expect(error.message == "extends cycle: profiles/x.json -> profiles/b.json -> profiles/x.json")
    }

    @Test func extendsItself() throws {
        let error = try #require(throws: ProfileError.self) {
            try ProfileFixtures.load("{\"name\": \"x\", \"extends\": \"./x.json\"}")
        }
        #expect(error.message == "extends cycle: profiles/x.json -> profiles/x.json")
    }

    @Test func errorsInAnExtendedFileNameThatFile() throws {
        let (base, line, column) = try #require(ProfileFixtures.locate("{\"squashfs\": {\"compression\": ‸\"zip\"}}"))
        let error = try #require(throws: ProfileError.self) {
            try ProfileFixtures.load("{\"name\": \"x\", \"extends\": \"base.json\", \"base\": {\"debian\": {}}}", extra: ["base.json": base])
        }
        #expect(error.file == "profiles/base.json")
        #expect(error.line == line && error.column == column)
        #expect(error.message.contains("unknown compressor \"zip\""))
    }

    @Test func levelIsCheckedAgainstTheInheritedCompressor() throws {
        let (child, line, column) = try #require(
            ProfileFixtures.locate("{\"name\": \"x\", \"extends\": \"base.json\", \"squashfs\": {\"level\": ‸12}}"))
        let error = try #require(throws: ProfileError.self) {
            try ProfileFixtures.load(child, extra: ["base.json": "{\"base\": {\"debian\": {}}, \"squashfs\": {\"compression\": \"xz\"}}"])
        }
        #expect(error.file == "profiles/x.json" && error.line == line && error.column == column)
        #expect(error.message == "level 12 is out of range for xz; expected 0 to 9")
    }

    @Test func missingBaseAcrossAChainSaysSo() throws {
        let error = try #require(throws: ProfileError.self) {
            try ProfileFixtures.load("{\"name\": \"x\", \"extends\": \"base.json\"}", extra: ["base.json": "{\"outputs\": [\"iso\"]}"])
        }
        #expect(error.file == "profiles/x.json" && error.line == 1 && error.column == 1)
        #expect(error.message == "missing required key \"base\" (set neither here nor in the profiles this one extends)")
    }

    @Test func nameIsNotInherited() throws {
        let error = try #require(throws: ProfileError.self) {
            try ProfileFixtures.load("{\"extends\": \"base.json\"}", extra: ["base.json": "{\"name\": \"base\", \"base\": {\"debian\": {}}}"])
        }
        #expect(error.message == "missing required key \"name\"")
    }
}
