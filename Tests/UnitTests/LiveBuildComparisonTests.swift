import Foundation
import Profile
import Testing
@testable import Benchmarks
@testable import LiveBuild

/// How the build benchmark sets up Debian's live-build from a profile, and reads lb's logs.
@Suite struct LiveBuildComparisonTests {
    static let cluster = Profile.Debian(
        suite: "trixie", variant: .minbase,
        packages: ["systemd", "systemd-sysv", "kmod", "openssh-server", "linux-image-amd64"])

    @Test func packagesAreTheProfilesAndLivebuildsLessTheKernel() {
        let lb = LiveBuildComparison(debian: Self.cluster, squashfs: .init(compression: .zstd, level: 15), directory: "/var/tmp/x")
        #expect(lb.settings.packages == ["systemd", "systemd-sysv", "kmod", "openssh-server", "busybox-static"])
        #expect(lb.settings.suite == "trixie")
        #expect(lb.settings.variant == "minbase")
    }

    @Test func configArgumentsMatchTheProfile() {
        let lb = LiveBuildComparison(debian: Self.cluster, squashfs: .init(compression: .zstd, level: 15), directory: "/var/tmp/x")
        let arguments = LiveBuildComparison.configArguments(lb.settings)
        func value(_ option: String) -> String? {
            arguments.firstIndex(of: option).map { arguments[$0 + 1] }
        }
        #expect(arguments.first == "config")
        #expect(value("--distribution") == "trixie")
        #expect(value("--archive-areas") == "main")
        #expect(value("--mirror-bootstrap") == "http://deb.debian.org/debian")
        #expect(value("--mirror-chroot") == "http://deb.debian.org/debian")
        #expect(value("--binary-images") == "iso-hybrid")
        #expect(value("--bootloaders") == "syslinux grub-efi")
        #expect(value("--apt-recommends") == "false")
        #expect(value("--apt-indices") == "false")
        #expect(value("--apt-source-archives") == "false")
        #expect(value("--security") == "false")
        #expect(value("--updates") == "false")
        #expect(value("--debian-installer") == "none")
        #expect(value("--memtest") == "none")
        #expect(value("--firmware-chroot") == "false")
        #expect(value("--chroot-squashfs-compression-type") == "zstd")
        #expect(value("--chroot-squashfs-compression-level") == "15")
        #expect(value("--debootstrap-options") == "--variant=minbase")
    }

    @Test func noLevelNoLevelOption() {
        let lb = LiveBuildComparison(debian: .init(variant: .important), squashfs: .init(compression: .xz), directory: "/x")
        let arguments = LiveBuildComparison.configArguments(lb.settings)
        #expect(!arguments.contains("--chroot-squashfs-compression-level"))
        #expect(!arguments.contains("--debootstrap-options"))
        #expect(arguments.contains("xz"))
    }

    @Test(arguments: [
        ("minbase", "minbase"), ("buildd", "buildd"), ("essential", "minbase"), ("apt", "minbase"),
        ("important", nil), ("debootstrap", nil), ("standard", nil),
    ] as [(String, String?)])
    func debootstrapVariants(mmdebstrap: String, debootstrap: String?) {
        #expect(LiveBuildComparison.debootstrapVariant(mmdebstrap) == debootstrap)
    }

    @Test func stagesFromLogTimestamps() {
        let log = """
            [2026-11-24 16:25:00] lb build 
            [2026-11-24 16:25:00] lb bootstrap 
            [2026-11-24 16:25:01] lb bootstrap_cache restore
            P: Running debootstrap...
            [2026-11-24 16:25:02] lb bootstrap_debootstrap 
            [2026-11-24 16:26:10] lb chroot_devpts install
            [2026-11-24 16:26:19] lb chroot 
            [2026-11-24 16:26:21] lb chroot_install-packages install
            [2026-11-24 16:29:40] lb installer 
            [2026-11-24 16:29:41] lb binary 
            [2026-11-24 16:29:45] lb chroot_devpts install
            [2026-11-24 16:31:11] lb binary_iso 
            [2026-11-24 16:31:41] lb source 
            [2026-11-24 16:31:41] lb source 
            P: Source stage disabled, skipping
            [2026-11-24 16:31:42] lb chroot_devpts remove
            """
        let stages = LiveBuildComparison.stages(log: log)
        #expect(stages.map(\.name) == ["bootstrap", "chroot", "installer", "binary", "source"])
        #expect(stages.map(\.seconds) == [79, 201, 1, 120, 1])
    }

    @Test func stagesAcrossMidnight() {
        let log = """
            [2026-11-24 23:59:50] lb chroot 
            [2026-11-25 00:00:10] lb binary 
            [2026-11-25 00:00:15] lb binary_iso 
            """
        #expect(LiveBuildComparison.stages(log: log).map(\.seconds) == [20, 5])
    }

    @Test func noTimestampsNoStages() {
        #expect(LiveBuildComparison.stages(log: "P: Building\nlb: nothing\n").isEmpty)
    }
}
