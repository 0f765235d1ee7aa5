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
    }
}
