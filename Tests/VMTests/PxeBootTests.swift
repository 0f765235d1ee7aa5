import Foundation
import Qemu
import Testing
import TestSupport

/// The default profile's PXE tree, booted diskless by QEMU's own NIC ROM (iPXE): DHCP and TFTP
/// from QEMU's user-mode network (`tftp=` the tree, boot file `boot.ipxe`), the kernel,
/// initramfs and squashfs over HTTP from a server on the host's loopback (slirp maps 10.0.2.2
/// to it). Served a corrupted squashfs, the node must stop with the digests on its console and
/// never switch root. (Booting to a login prompt from the same tree, on SeaBIOS and OVMF, is
/// ServeTests, with `livebuild serve` and real dnsmasq.)
@Suite(.serialized, .enabled(if: geteuid() == 0, "the HTTP server listens on 127.0.0.1:80"))
struct PxeBootTests {
    static let deadline: Duration = .seconds(480)

    static func logPath(_ name: String) -> String {
        let directory = ProcessInfo.processInfo.environment["LIVEBUILD_VM_LOG_DIR"] ?? Repository.root + "/.build/vm-logs"
        return directory + "/pxe-\(name).log"
    }

    /// `python3 -m http.server` on 127.0.0.1:80 serving `root`, until `body` returns.
    static func serving<T>(_ root: String, _ body: () async throws -> T) async throws -> T {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-m", "http.server", "80", "--bind", "127.0.0.1", "--directory", root]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            // SIGKILL: the child inherits the spawning thread's signal mask, which can block
            // SIGTERM (Process.terminate() then does nothing and waitUntilExit() hangs).
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        try await Task.sleep(for: .seconds(1))
        #expect(server.isRunning, "the test's HTTP server started on 127.0.0.1:80 (is the port taken?)")
        return try await body()
    }

    static func machine(tree: String, uefi: Bool, mac: String = "52:54:00:4c:43:01") throws -> Qemu.Machine {
        Qemu.Machine(
            memoryMiB: 1536, cpus: LiveBootTests.cpus,
            firmware: uefi ? .uefi(try Qemu.OVMF.installed()) : .bios,
            media: [], accelerator: Qemu.Accelerator.probe(),
            network: [.init(backend: .user(tftpRoot: tree, bootFile: "boot.ipxe"), mac: mac, bootIndex: 0)])
    }

    @Test func refusesACorruptedSquashfs() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let tree = image.directory + "/pxe"
        // The HTTP side serves the real kernel and initramfs (iPXE loads them over HTTP) beside a
        // copy of the squashfs with one byte changed; TFTP the real tree.
        let corrupt = Repository.root + "/.build/pxe-corrupt"
        try? FileManager.default.removeItem(atPath: corrupt)
        try FileManager.default.createDirectory(atPath: corrupt + "/live", withIntermediateDirectories: true)
        for file in ["live/vmlinuz", "live/initrd.img"] {
            try FileManager.default.copyItem(atPath: tree + "/" + file, toPath: corrupt + "/" + file)
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: tree + "/live/filesystem.squashfs"))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: corrupt + "/live/filesystem.squashfs"))
        defer { try? FileManager.default.removeItem(atPath: corrupt) }
        try await Self.serving(corrupt) {
            let log = Self.logPath("corrupt")
            let vm = try Qemu.VM(machine: try Self.machine(tree: tree, uefi: false), consoleLog: log)
            defer { vm.kill() }
            let started = ContinuousClock.now
            try await vm.waitFor(pattern: "refusing to boot it", deadline: started + Self.deadline)
            try await vm.waitFor(pattern: "dropping to a rescue shell", deadline: started + .seconds(60))
            try await Task.sleep(for: .seconds(5))
            let console = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(console.contains("expected \(image.manifest.artefacts.first { $0.path == "live/filesystem.squashfs" }?.sha256 ?? "?")"),
                    "the message names the expected digest")
            #expect(!console.contains("switching root"), "a node served a damaged squashfs never boots it")
        }
    }
}
