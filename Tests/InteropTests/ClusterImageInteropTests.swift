import Foundation
import Testing
import TestSupport

/// What a cluster image must not carry, read back from the built squashfs with `rdsquashfs`.
@Suite struct ClusterImageInteropTests {
    /// No SSH host key: openssh-server's postinst made them once inside mmdebstrap, and every
    /// node would share them. The node runtime removes them; each node makes its own at boot.
    @Test func squashfsHoldsNoSSHHostKey() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let listing = String(decoding: try SquashfsTool.run("rdsquashfs", ["-l", "/etc/ssh", image.squashfs]), as: UTF8.self)
        #expect(listing.contains("sshd_config"), "rdsquashfs lists /etc/ssh: \(listing)")
        #expect(!listing.contains("ssh_host_"), "no SSH host key in the image: \(listing)")
        let config = String(decoding: try SquashfsTool.run("rdsquashfs", ["-c", "/etc/ssh/sshd_config.d/livebuild-host-keys.conf", image.squashfs]), as: UTF8.self)
        #expect(config.contains("HostKey /etc/ssh/ssh_host_ed25519_key"), "\(config)")
    }

    /// systemd's /var update stamp, so a live boot does not rebuild the journal catalog every
    /// time: stamped with the build's time, no older than /usr. No /etc stamp: the `cluster`
    /// group is made by systemd-sysusers at boot, which runs only while /etc "needs an update".
    @Test func squashfsCarriesSystemdUpdateStamps() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let etc = String(decoding: try SquashfsTool.run("rdsquashfs", ["-l", "/etc", image.squashfs]), as: UTF8.self)
        #expect(!etc.contains(".updated"), "no /etc/.updated: systemd-sysusers must run at boot")
        for stamp in ["/var/.updated"] {
            let text = String(decoding: try SquashfsTool.run("rdsquashfs", ["-c", stamp, image.squashfs]), as: UTF8.self)
            let nanoseconds = try #require(text.split(separator: "\n").first { $0.hasPrefix("TIMESTAMP_NSEC=") }.flatMap { Int64($0.dropFirst(15)) }, "\(stamp): \(text)")
            let usr = String(decoding: try SquashfsTool.run("rdsquashfs", ["-s", "/usr", image.squashfs]), as: UTF8.self)
            // "Last modified: Tue, 14 Nov 2023 22:13:20 +0000 (1700000000)"
            let line = try #require(usr.split(separator: "\n").first { $0.hasPrefix("Last modified: ") }, "\(usr)")
            let mtime = try #require(line.split(separator: "(").last.flatMap { Int64($0.dropLast()) }, "\(line)")
            #expect(nanoseconds >= mtime * 1_000_000_000, "\(stamp) \(nanoseconds) against /usr's mtime \(mtime) s: systemd would rerun the update units")
        }
    }
}
