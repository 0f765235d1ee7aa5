import Qemu
import Testing

/// The phases of a boot read off its console as it grows (`livebuild bench boot`).
@Suite struct BootTimelineTests {
    /// A BIOS CD boot of the default image, cut down from a real console log.
    static let console: [(seconds: Double, text: String)] = [
        (0.12, "SeaBIOS (version 1.16.2-debian-1.16.2-1)\nBooting from DVD/CD...\n"),
        (0.26, "ISOLINUX 6.04 20200816 ETCD Copyright (C) 1994-2015 H. Peter Anvin et al\n"),
        (3.90, "Automatic boot in 1 second...\n"),
        (4.10, "[    0.000000] Linux version 6.12.117+deb13-amd64 (debian-kernel@lists.debian.org)\n"),
        (8.17, "[    2.209013] Run /init as init process\nlivebuild-init: loading modules\n"),
        (12.38, "livebuild-init: switching root to /sbin/init\n"),
        (13.19, "[    7.230254] systemd[1]: Inserted module 'autofs4'\nWelcome to Debian GNU/Linux 13 (trixie)!\n"),
        (29.52, "node-123456 login: root (automatic login)\n"),
    ]

    @Test func phasesEndAtTheirMarkers() {
        var timeline = Qemu.BootTimeline()
        var text = ""
        for (seconds, chunk) in Self.console {
            text += chunk
            timeline.record(text, at: seconds)
        }
        #expect(timeline.reachedLogin && timeline.total == 29.52)
        let durations = timeline.durations
        #expect(durations.map(\.phase) == [.firmware, .bootLoader, .kernel, .liveInit, .systemd])
        let seconds = durations.map { $0.seconds ?? -1 }
        for (found, expected) in zip(seconds, [0.26, 4.10 - 0.26, 8.17 - 4.10, 13.19 - 8.17, 29.52 - 13.19]) {
            #expect(abs(found - expected) < 1e-9)
        }
    }

    /// Read all at once (a slow poll), every marker gets that one instant, in order.
    @Test func markersSeenInOnePollShareTheInstant() {
        var timeline = Qemu.BootTimeline()
        timeline.record(Self.console.map(\.text).joined(), at: 30)
        #expect(timeline.durations.map(\.seconds) == [30, 0, 0, 0, 0])
    }

    /// A marker is only looked for after the one before it: GRUB's "Welcome to GRUB!" is not
    /// systemd's "Welcome to", and a `login:` in the kernel's lines before systemd would not be
    /// the prompt (it would be taken only once systemd's marker or a later one shows).
    @Test func markersAreSearchedInOrder() {
        var timeline = Qemu.BootTimeline()
        timeline.record("BdsDxe: starting Boot0002\nWelcome to GRUB!\n", at: 4.7)
        #expect(timeline.durations.first?.seconds == 4.7)
        #expect(timeline.durations.dropFirst().allSatisfy { $0.seconds == nil })
        timeline.record("BdsDxe: starting Boot0002\nWelcome to GRUB!\n[    0.000000] Linux version 6.12\n", at: 9.2)
        #expect(timeline.durations[1].seconds.map { abs($0 - 4.5) < 1e-9 } == true)
        #expect(!timeline.reachedLogin)
    }

    /// A `quiet` kernel prints neither its version nor /init: those phases stay unknown, the
    /// later ones and the total are still measured.
    @Test func aQuietBootStillReachesLogin() {
        var timeline = Qemu.BootTimeline()
        var text = "ISOLINUX 6.04\n"
        timeline.record(text, at: 0.3)
        text += "Welcome to Debian GNU/Linux 13 (trixie)!\n"
        timeline.record(text, at: 20)
        text += "debian login: "
        timeline.record(text, at: 45)
        #expect(timeline.total == 45)
        let durations = timeline.durations.map(\.seconds)
        #expect(durations[0] == 0.3 && durations[1] == nil && durations[2] == nil && durations[3] == nil && durations[4] == 25)
    }

    @Test func systemdAnalyzeSummary() {
        let line = "Startup finished in 7.170s (kernel) + 16.090s (userspace) = 23.261s \ngraphical.target reached after 16.069s in userspace."
        let startup = Qemu.startupFinished(line)
        #expect(startup?.kernel == 7.170 && startup?.userspace == 16.090)
        #expect(Qemu.startupFinished("Startup finished in 1min 2.500s (kernel) + 812ms (userspace) = 1min 3.312s")?.kernel == 62.5)
        #expect(Qemu.startupFinished("Startup finished in 1min 2.500s (kernel) + 812ms (userspace) = 1min 3.312s")?.userspace == 0.812)
        #expect(Qemu.startupFinished("Bootup is not yet finished") == nil)
        #expect(Qemu.systemdSpan("garbage") == nil)
    }
}
