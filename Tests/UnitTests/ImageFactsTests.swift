import Testing
@testable import LiveBuild

@Suite struct ImageFactsTests {
    @Test func dpkgStatusListsInstalledPackagesOnly() {
        let status = """
        Package: zlib1g
        Status: install ok installed
        Architecture: amd64
        Version: 1:1.3.dfsg+really1.3.1-1+b1
        Description: compression
         continued line

        Package: gone
        Status: deinstall ok config-files
        Version: 1.0

        Package: bash
        Status: install ok installed
        Architecture: amd64
        Version: 5.2.37-2
        """
        let packages = DpkgStatus.installed(status)
        #expect(packages.map(\.name) == ["bash", "zlib1g"])
        #expect(packages.last?.version == "1:1.3.dfsg+really1.3.1-1+b1")
    }

    @Test func userDatabaseResolvesNamesAndNumbers() {
        let users = UserDatabase(passwd: "root:x:0:0::/root:/bin/sh\nsshd:x:101:65534::/run/sshd:/usr/sbin/nologin\n",
                                 group: "root:x:0:\nshadow:x:42:\n")
        #expect(users.uid("sshd") == 101)
        #expect(users.uid("1000") == 1000)
        #expect(users.gid("shadow") == 42)
        #expect(users.uid("nobody") == nil)
    }

    @Test func kernelVersionsSortNumerically() {
        var files = ImageFiles()
        for version in ["6.12.10-amd64", "6.12.9-amd64", "6.1.0-amd64"] { files.files["boot/vmlinuz-\(version)"] = [0] }
        #expect(files.kernelVersions == ["6.1.0-amd64", "6.12.9-amd64", "6.12.10-amd64"])
    }

    @Test(arguments: [
        ("E: Unable to locate package nosuchpkg", "nosuchpkg"),
        ("E: Package 'foo' has no installation candidate", "foo"),
        ("I: everything fine", nil),
    ] as [(String, String?)])
    func unknownPackageFromAptErrors(line: String, expected: String?) {
        #expect(BaseStage.unknownPackage(in: "I: start\n\(line)\n") == expected)
    }

    @Test func mediumIDIsAVolumeLabel() {
        let id = Builder.mediumID(name: "cluster-node.v2", squashfsSHA256: "0123456789abcdef")
        #expect(id == "CLUSTER_NODE_V2-01234567")
        #expect(id.count <= 32)
    }

    @Test func debianBaseCacheKeyIgnoresPackageOrder() {
        func request(_ packages: [String]) -> BaseStage.Debian {
            BaseStage.Debian(suite: "trixie", mirror: "http://deb.debian.org/debian", components: ["main"], variant: "minbase",
                             packages: packages, required: ["linux-image-amd64"], recommends: false, architecture: "amd64")
        }
        #expect(request(["a", "b"]).cacheKey == request(["b", "a"]).cacheKey)
        #expect(request(["a"]).cacheKey != request(["a", "c"]).cacheKey)
    }

    @Test func staticBusyboxIsRecognised() {
        // A minimal ELF64 header with one program header of type PT_INTERP (3) at offset 64.
        var elf = [UInt8](repeating: 0, count: 128)
        elf[0] = 0x7f; elf[1] = 0x45; elf[2] = 0x4c; elf[3] = 0x46; elf[4] = 2
        elf[32] = 64; elf[54] = 56; elf[56] = 1
        elf[64] = 3
        #expect(InitramfsBuilder.isDynamicallyLinked(elf))
        elf[64] = 1
        #expect(!InitramfsBuilder.isDynamicallyLinked(elf))
    }
}
