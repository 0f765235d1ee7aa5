import Testing
@testable import Jobs

/// Each job's mount namespace (Docs/migration.md): CRIU's external mounts, and the check of a
/// restored job's mounts against the node's own, which the images (from the network) must pass.
@Suite struct MountNamespaceTests {
    static let host = """
        24 1 0:27 / / rw,relatime shared:1 - overlay overlay rw,lowerdir=/run/live/rootfs
        25 24 0:25 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,mode=755
        26 25 11:0 / /run/live/medium ro,relatime shared:6 - iso9660 /dev/sr0 ro
        27 24 0:6 / /dev rw,nosuid shared:2 - devtmpfs devtmpfs rw
        28 27 0:24 / /dev/pts rw,nosuid,noexec shared:3 - devpts devpts rw
        29 27 0:30 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw
        30 24 0:23 / /sys rw,nosuid,nodev,noexec shared:7 - sysfs sysfs rw
        31 24 0:22 / /proc rw,nosuid,nodev,noexec shared:12 - proc proc rw
        32 24 0:40 / /tmp rw,nosuid,nodev shared:13 - tmpfs tmpfs rw
        33 24 0:50 / /home rw,nosuid,nodev,relatime shared:14 - nfs4 10.0.0.1:/home rw
        34 30 0:8 / /sys/kernel/debug rw,nosuid,nodev,noexec shared:15 - debugfs debugfs rw
        """

    static let job = """
        100 90 0:27 / / rw,relatime - overlay overlay rw
        101 100 0:25 / /run rw,nosuid,nodev - tmpfs tmpfs rw
        102 100 0:6 / /dev rw,nosuid - devtmpfs devtmpfs rw
        103 102 0:24 / /dev/pts rw,nosuid,noexec - devpts devpts rw
        104 102 0:30 / /dev/shm rw,nosuid,nodev - tmpfs tmpfs rw
        105 100 0:23 / /sys rw,nosuid,nodev,noexec - sysfs sysfs rw
        106 100 0:40 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw
        107 100 0:50 / /home rw,nosuid,nodev - nfs4 10.0.0.1:/home rw
        108 100 0:60 / /proc rw,nosuid,nodev,noexec - proc proc rw
        """

    @Test func keptMountsAreExternalOnBothSides() {
        #expect(Jobs.MountNamespace.key("/dev/pts") == "job-dev-pts")
        let dump = Jobs.MountNamespace.dumpArguments(jobMountinfo: Self.job)
        #expect(dump.contains("mnt[/dev/pts]:job-dev-pts") && dump.contains("mnt[/home]:job-home"))
        #expect(!dump.contains { $0.contains("/proc") } && dump.count == 14, "\(dump)")
        // A job without mounts of its own (started before jobs had a namespace): nothing.
        #expect(Jobs.MountNamespace.dumpArguments(jobMountinfo: "24 1 0:27 / / rw - overlay overlay rw\n").isEmpty)
        let restore = Jobs.MountNamespace.restoreArguments(root: "/w/root", host: Jobs.MountNamespace.parse(Self.host))
        #expect(restore.prefix(2) == ["--root", "/w/root"] && restore.contains("mnt[job-home]:/home") && restore.count == 16)
        let mounts = Jobs.MountNamespace.parse("36 35 98:0 /mnt\\040dir /a\\040b rw,noatime master:1 - ext3 /dev/root rw\n")
        #expect(mounts.first?.root == "/mnt dir" && mounts.first?.mountPoint == "/a b" && mounts.first?.fsType == "ext3")
    }

    /// A profile's shared directory elsewhere than /home (`cluster.shared`) is a job's too:
    /// a member's NFS mount, or the head's exported tmpfs; never the live system's own mounts.
    @Test func theSharedDirectoryIsKeptWhereverItIs() {
        let host = Jobs.MountNamespace.parse(Self.host + """

            40 24 0:61 / /srv/shared rw,nosuid,nodev - nfs4 10.0.0.1:/srv/shared rw
            41 24 0:62 / /data rw - tmpfs livebuild-shared rw
            42 24 0:63 / /scratch rw - tmpfs tmpfs rw
            43 25 0:64 / /run/user/1000 rw - nfs4 10.0.0.1:/x rw
            44 24 0:65 / /odd\040path rw - nfs4 10.0.0.1:/y rw
            """)
        let kept = Jobs.MountNamespace.keptPaths(host: host)
        #expect(kept == Jobs.MountNamespace.kept + ["/data", "/srv/shared"], "\(kept)")
        let job = Self.job + "\n111 100 0:61 / /srv/shared rw,nosuid,nodev - nfs4 10.0.0.1:/srv/shared rw"
        #expect(Jobs.MountNamespace.dumpArguments(jobMountinfo: job).contains("mnt[/srv/shared]:job-srv-shared"))
        #expect(Jobs.MountNamespace.problem(restored: Jobs.MountNamespace.parse(job), host: host) == nil)
        let elsewhere = Self.job + "\n112 100 0:62 / /scratch rw - tmpfs tmpfs rw"
        #expect(Jobs.MountNamespace.problem(restored: Jobs.MountNamespace.parse(elsewhere), host: host)?.contains("/scratch") == true)
    }

    @Test func aRestoredJobHoldsOnlyTheNodesOwnMounts() {
        let host = Jobs.MountNamespace.parse(Self.host)
        func check(_ text: String) -> String? { Jobs.MountNamespace.problem(restored: Jobs.MountNamespace.parse(text), host: host) }
        #expect(check(Self.job) == nil)
        // A node without /home mounted binds its directory: the root filesystem's /home.
        let hostWithoutHome = Jobs.MountNamespace.parse(Self.host.split(separator: "\n").filter { !$0.contains("/home") }.joined(separator: "\n"))
        let boundDirectory = Self.job.replacingOccurrences(of: "107 100 0:50 / /home rw,nosuid,nodev - nfs4", with: "107 100 0:27 /home /home rw,relatime - overlay")
        #expect(Jobs.MountNamespace.problem(restored: Jobs.MountNamespace.parse(boundDirectory), host: hostWithoutHome) == nil)
        let forged: [(String, String)] = [
            // A block device mounted by the images.
            (Self.job.replacingOccurrences(of: "105 100 0:23 / /sys rw,nosuid,nodev,noexec - sysfs sysfs rw", with: "109 100 8:1 / /tmp/disk rw - ext4 /dev/sda1 rw"), "/tmp/disk"),
            (Self.job + "\n109 100 8:1 / /tmp/disk rw - ext4 /dev/sda1 rw", "mounts"),
            // /home without nosuid: setuid programs on the share would work.
            (Self.job.replacingOccurrences(of: "/home rw,nosuid,nodev", with: "/home rw,nodev"), "nosuid"),
            // /tmp is another filesystem, or another directory of this node's root.
            (Self.job.replacingOccurrences(of: "0:40 / /tmp", with: "0:27 /etc /tmp"), "/tmp"),
            (Self.job.replacingOccurrences(of: "0:27 / / rw", with: "0:27 /home / rw"), "/"),
            // The node's /proc, not the job's own kind.
            (Self.job.replacingOccurrences(of: "- proc proc", with: "- tmpfs tmpfs"), "/proc"),
            (Self.job.replacingOccurrences(of: "105 100 0:23 / /sys rw,nosuid,nodev,noexec - sysfs sysfs rw", with: "110 100 0:40 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw"), "twice"),
            ("", "mounts"),
        ]
        for (text, word) in forged {
            let problem = check(text)
            #expect(problem?.contains(word) == true, "\(word): \(problem ?? "accepted")")
        }
    }
}
