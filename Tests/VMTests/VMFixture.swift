import Foundation
import HostTools
import LiveBuild
import TestSupport
import Testing

/// Inputs shared by the VM tests: the real Debian trixie kernel and static busybox from the
/// base tar, a tiny busybox initramfs, and a hybrid ISO built from them (built once per run).
actor VMFixture {
    static let shared = VMFixture()

    /// Source of the kernel (`./boot/vmlinuz-*`) and the static busybox (`./usr/bin/busybox`):
    /// the cached Debian base of the default profile (built by the shared fixture), or
    /// `LIVEBUILD_TEST_BASE_TAR`.
    static func baseTar() async throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["LIVEBUILD_TEST_BASE_TAR"] { return explicit }
        return try await Fixtures.shared.baseTar("cluster")
    }

    /// The package root, found from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Console logs are kept here: LIVEBUILD_VM_LOG_DIR, or .build/vm-logs in the package.
    static var logDirectory: String {
        ProcessInfo.processInfo.environment["LIVEBUILD_VM_LOG_DIR"] ?? packageRoot + "/.build/vm-logs"
    }

    /// Printed by the test initramfs's /init.
    static let initMarker = "LIVEBUILD-VM-TEST: init reached"
    static let menuTitle = "Livebuild VM test"
    static let entryLabel = "Livebuild test boot"

    static let bootMenu = try! BootMenu(
        title: menuTitle,
        timeoutSeconds: 1,
        entries: [.init(label: entryLabel, kernelCommandLine: "console=ttyS0,115200 panic=-1 livebuild.test=1")])

    private var isoTask: Task<String, any Error>?

    /// The path of the test ISO, building it on first use.
    func iso() async throws -> String {
        if let isoTask { return try await isoTask.value }
        let task = Task { try await Self.buildISO() }
        isoTask = task
        return try await task.value
    }

    private static func buildISO() async throws -> String {
        let tar = try await baseTar()
        guard FileManager.default.fileExists(atPath: tar) else {
            throw FixtureError("base tar \(tar) is missing: set LIVEBUILD_TEST_BASE_TAR to a Debian trixie tar holding ./boot/vmlinuz-* and ./usr/bin/busybox")
        }
        let root = packageRoot + "/.build/vm-fixtures/iso"
        let fileManager = FileManager.default
        try? fileManager.removeItem(atPath: root)
        let staging = root + "/staging"
        let initramfsTree = root + "/initramfs"
        for directory in [staging + "/live", initramfsTree + "/bin", initramfsTree + "/dev", initramfsTree + "/proc"] {
            try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let tools = ToolRunner()

        let listing = try await tools.run("tar", ["-tf", tar]).standardOutput
        guard let kernel = listing.split(separator: "\n").first(where: { $0.hasPrefix("./boot/vmlinuz-") }) else {
            throw FixtureError("\(tar) holds no ./boot/vmlinuz-*")
        }
        try await tools.run("sh", ["-c", "tar -xOf \"$1\" \"$2\" > \"$3\"", "sh", tar, String(kernel), staging + "/" + IsoLayout.kernel])
        try await tools.run("sh", ["-c", "tar -xOf \"$1\" ./usr/bin/busybox > \"$2\"", "sh", tar, initramfsTree + "/bin/busybox"])
        try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: initramfsTree + "/bin/busybox")
        try fileManager.createSymbolicLink(atPath: initramfsTree + "/bin/sh", withDestinationPath: "busybox")

        // No /dev/console node in the archive (that needs root): /init mounts devtmpfs first.
        let initScript = """
            #!/bin/sh
            /bin/busybox mount -t devtmpfs devtmpfs /dev
            exec </dev/console >/dev/console 2>&1
            /bin/busybox mount -t proc proc /proc
            echo "\(initMarker) cmdline=[$(/bin/busybox cat /proc/cmdline)]"
            while true; do /bin/busybox sleep 60; done

            """
        try Data(initScript.utf8).write(to: URL(fileURLWithPath: initramfsTree + "/init"))
        try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: initramfsTree + "/init")
        try await tools.run("sh", [
            "-c", "cd \"$1\" && find . | LC_ALL=C sort | cpio -o -H newc --quiet > \"$2\"",
            "sh", initramfsTree, staging + "/" + IsoLayout.initrd,
        ])
        try Data("not a real squashfs\n".utf8).write(to: URL(fileURLWithPath: staging + "/" + IsoLayout.squashfs))

        let iso = root + "/livebuild-vm-test.iso"
        let writer = IsoWriter(
            mediumID: try MediumID("LIVEBUILD-VMTEST01"),
            bootMenu: bootMenu,
            sourceDateEpoch: 1_700_000_000)
        try await writer.write(stagingDirectory: staging, to: iso, workDirectory: root + "/work")
        return iso
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
