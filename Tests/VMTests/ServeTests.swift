import Foundation
import Qemu
import Testing
import TestSupport
import VirtualCluster

/// `livebuild serve` of the default profile's build boots diskless nodes: inside a network
/// namespace the test creates (a bridge and two taps), `serve` runs dnsmasq as the LAN's DHCP
/// and TFTP server and its own HTTP server; two QEMU nodes with no disk, SeaBIOS and OVMF, boot
/// from their NICs (iPXE ROM), fetch the squashfs from `serve` into RAM, verify it and reach a
/// login prompt.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root: network namespaces, taps, DHCP and HTTP ports"))
struct ServeTests {
    static let deadline: Duration = .seconds(480)

    @Test func servesADisklessNodeFromABuild() async throws {
        let image = try await Fixtures.shared.image("cluster")
        let namespace = "lbserve\(getpid() % 100_000)"
        let network = VirtualCluster.Network()
        _ = try? Tool.run(["ip", "netns", "del", namespace], allowFailure: true)
        for command in network.setupCommands(namespace: namespace, taps: ["tap0", "tap1"]) {
            try Tool.run(command)
        }
        defer { _ = try? Tool.run(["ip", "netns", "del", namespace], allowFailure: true) }

        let logDirectory = ProcessInfo.processInfo.environment["LIVEBUILD_VM_LOG_DIR"] ?? Repository.root + "/.build/vm-logs"
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        let serveLog = logDirectory + "/serve.log"
        _ = FileManager.default.createFile(atPath: serveLog, contents: nil)
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        serve.arguments = ["netns", "exec", namespace, try Products.path("livebuild"), "serve", image.directory,
                           "--interface", network.bridge, "--range", "\(network.dhcpFirst),\(network.dhcpLast)"]
        serve.standardOutput = FileHandle(forWritingAtPath: serveLog)
        serve.standardError = serve.standardOutput
        try serve.run()
        defer { Self.stop(serve) }
        try await Task.sleep(for: .seconds(2))
        #expect(serve.isRunning, "livebuild serve started (log \(serveLog))")

        // SeaBIOS and OVMF at once: each VM has one vCPU, so the two fill this 2-core host.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, uefi) in [false, true].enumerated() {
                group.addTask {
                    try await Self.bootDiskless(uefi: uefi, tap: "tap\(index)", mac: "52:54:00:4c:44:0\(index + 1)",
                                                namespace: namespace, network: network, logDirectory: logDirectory)
                }
            }
            try await group.waitForAll()
        }
        let served = (try? String(contentsOfFile: serveLog, encoding: .utf8)) ?? ""
        #expect(served.components(separatedBy: "GET /live/filesystem.squashfs → 200").count >= 3, "serve's HTTP server sent the squashfs to both nodes:\n\(served.suffix(2000))")
        #expect(served.contains("boot.ipxe"), "dnsmasq's TFTP sent the iPXE script")
    }

    static func bootDiskless(uefi: Bool, tap: String, mac: String, namespace: String, network: VirtualCluster.Network,
                             logDirectory: String) async throws {
        let name = uefi ? "uefi" : "bios"
        let log = logDirectory + "/serve-node-\(name).log"
        let machine = Qemu.Machine(
            memoryMiB: 1536, cpus: LiveBootTests.cpus, firmware: uefi ? .uefi(try Qemu.OVMF.installed()) : .bios, media: [],
            accelerator: Qemu.Accelerator.probe(),
            network: [.init(backend: .tap(tap), mac: mac, bootIndex: 0)])
        let vm = try Qemu.VM(machine: machine, consoleLog: log, namespace: namespace)
        defer {
            vm.kill()
            let failures = vm.consoleFailures()
            #expect(failures.isEmpty, "kernel failure on the console (\(log)):\n\(failures.joined(separator: "\n"))")
        }
        let started = ContinuousClock.now
        try await vm.waitFor(pattern: "livebuild-init: network boot", deadline: started + Self.deadline)
        try await vm.waitFor(pattern: "livebuild-init: squashfs in RAM and verified", deadline: started + Self.deadline)
        try await vm.waitFor(pattern: "login:", deadline: started + Self.deadline)
        let login = ContinuousClock.now - started
        try await vm.waitFor(pattern: "root@node-", deadline: started + Self.deadline)
        let node = try await vm.shell("cat /proc/cmdline; findmnt -n -o FSTYPE /; findmnt -n -o SOURCE /run/live/rootfs; test -d /sys/firmware/efi && echo uefi || echo bios", timeout: .seconds(120))
        #expect(node.output.contains("fetch=http://\(network.bridgeAddress)/live/filesystem.squashfs"), "\(name): \(node.output)")
        #expect(node.output.contains("overlay"), "\(name): root is an overlay: \(node.output)")
        #expect(node.output.contains("/dev/loop"), "\(name): the squashfs is mounted from RAM through a loop device: \(node.output)")
        #expect(node.output.contains(name), "\(name) firmware: \(node.output)")
        print("livebuild serve: diskless \(name) node at a login prompt after \(login); log \(log)")
    }

    /// SIGTERM, then SIGKILL for `serve` and its dnsmasq if it did not stop in 10 s.
    static func stop(_ serve: Process) {
        guard serve.isRunning else { return }
        kill(serve.processIdentifier, SIGTERM)
        let end = Date().addingTimeInterval(10)
        while serve.isRunning && Date() < end { usleep(100_000) }
        if serve.isRunning {
            Issue.record("livebuild serve ignored SIGTERM for 10 s")
            kill(serve.processIdentifier, SIGKILL)
            _ = try? Tool.run(["pkill", "-KILL", "-f", "livebuild-serve-\(serve.processIdentifier)/dnsmasq.pid"], allowFailure: true)
        }
        serve.waitUntilExit()
    }
}
