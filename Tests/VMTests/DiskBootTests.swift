import Foundation
import Qemu
import Testing
import TestSupport

/// The default profile's disk image (qcow2, with a persistence partition) boots from its own
/// boot loaders on BIOS and on UEFI, and keeps changes across a power-off only when booted with
/// `persistence`. Every VM boots a fresh qcow2 overlay of the fixture's image, so the fixture
/// stays as built. Serialized: under TCG each VM keeps a host core busy.
@Suite(.serialized) struct DiskBootTests {
    static let deadline: Duration = .seconds(420)

    static func logPath(_ name: String) -> String {
        let directory = ProcessInfo.processInfo.environment["LIVEBUILD_VM_LOG_DIR"] ?? Repository.root + "/.build/vm-logs"
        return directory + "/disk-\(name).log"
    }

    /// A new qcow2 file over the fixture's disk image: writes land in it.
    static func overlay(_ name: String) async throws -> String {
        let image = try await Fixtures.shared.image("cluster")
        let disk = try #require(image.disk, "the default profile has a disk output")
        let directory = Repository.root + "/.build/vm-fixtures/disk"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/\(name).qcow2"
        try? FileManager.default.removeItem(atPath: path)
        _ = try Tool.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", disk, path])
        return path
    }

    static func finish(_ vm: Qemu.VM, log: String) {
        vm.kill()
        let failures = vm.consoleFailures()
        #expect(failures.isEmpty, "kernel failure on the console (\(log)):\n\(failures.joined(separator: "\n"))")
    }

    static let marker = "for f in /home/persist-test /etc/persist-test; do [ -e $f ] && echo \"HAVE $f: $(cat $f)\" || echo \"NO $f\"; done"

    /// Five boots, two at a time (each VM has one vCPU, so two fill this 2-core host):
    /// 1. BIOS and UEFI from the disk's own menus, at once; the UEFI one, whose default entry
    ///    keeps changes on the persistence partition, writes two files and is powered off.
    /// 2. The same disk again with `persistence` (the files are there) and without it (they
    ///    are not; changes go to RAM), at once: the second on a copy of the overlay (only the
    ///    writes; same backing image), since QEMU locks a disk it writes to.
    @Test func bootsOnBIOSAndUEFIAndKeepsChangesOnlyWithPersistence() async throws {
        let disk = try await Self.overlay("persistence")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await Self.bootToLogin(firmware: "bios", disk: try await Self.overlay("boot-bios")) { _ in } }
            group.addTask {
                try await Self.bootToLogin(firmware: "uefi", disk: disk) { vm in
                    let write = try await vm.shell("echo home-$((6 * 7)) > /home/persist-test && echo etc-$((6 * 7)) > /etc/persist-test && sync && " + Self.marker, timeout: .seconds(120))
                    #expect(write.output.contains("HAVE /home/persist-test: home-42"), "\(write.output)")
                    // A clean power-off, as a user would do it.
                    try vm.type("systemctl poweroff\n")
                    let status = try await vm.waitForExit(timeout: .seconds(300))
                    #expect(status != nil, "the VM powered off")
                }
            }
            try await group.waitForAll()
        }
        let copy = disk.replacingOccurrences(of: ".qcow2", with: "-copy.qcow2")
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: disk, toPath: copy)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await Self.boot(disk, persistence: true, name: "persistence-2") { vm in
                    let after = try await vm.shell(Self.marker, timeout: .seconds(120))
                    #expect(after.output.contains("HAVE /home/persist-test: home-42"), "\(after.output)")
                    #expect(after.output.contains("HAVE /etc/persist-test: etc-42"), "\(after.output)")
                }
            }
            group.addTask {
                try await Self.boot(copy, persistence: false, name: "persistence-off") { vm in
                    let without = try await vm.shell(Self.marker + "; findmnt -n -o FSTYPE /run/live/rw", timeout: .seconds(120))
                    #expect(without.output.contains("NO /home/persist-test"), "\(without.output)")
                    #expect(without.output.contains("NO /etc/persist-test"), "\(without.output)")
                    #expect(without.output.contains("tmpfs"), "changes go to RAM: \(without.output)")
                }
            }
            try await group.waitForAll()
        }
    }

    /// Boots `disk` from its own boot loader to a logged-in shell, checks the overlay's upper
    /// layer is on the persistence partition, then runs `body`.
    static func bootToLogin(firmware: String, disk: String, _ body: (Qemu.VM) async throws -> Void) async throws {
        let image = try await Fixtures.shared.image("cluster")
        let machine = Qemu.Machine(
            memoryMiB: 1536, cpus: 1,
            firmware: firmware == "uefi" ? .uefi(try Qemu.OVMF.installed()) : .bios,
            media: [.virtioDisk(disk, format: "qcow2")],
            accelerator: Qemu.Accelerator.probe())
        let log = Self.logPath(firmware)
        let vm = try Qemu.VM(machine: machine, consoleLog: log)
        defer { Self.finish(vm, log: log) }
        let started = ContinuousClock.now

        // The disk's own menu (syslinux or GRUB): the default entry keeps changes on disk.
        try await vm.waitFor(pattern: "Cluster node (changes in RAM only)", deadline: started + Self.deadline)
        try await vm.waitFor(pattern: "livebuild-init: live medium found on /dev/vda2", deadline: started + Self.deadline)
        try await vm.waitFor(pattern: "persistence: changes are kept on /dev/vda3", deadline: started + Self.deadline)
        // The key on the ESP, loaded by the disk's loader as a second initramfs.
        try await vm.waitFor(pattern: "livebuild-init: cluster key from the boot medium installed", deadline: started + Self.deadline)
        try await vm.waitFor(pattern: "login:", deadline: started + Self.deadline)
        let login = ContinuousClock.now - started
        try await vm.waitFor(pattern: "root@node-", deadline: started + Self.deadline)

        let root = try await vm.shell("findmnt -n -o FSTYPE /; findmnt -n -o SOURCE /run/live/persistence; cat /proc/cmdline; stat -c 'key %a %U' /etc/livebuild/cluster.key", timeout: .seconds(120))
        #expect(root.status == 0)
        #expect(root.output.contains("overlay"), "root is an overlay: \(root.output)")
        #expect(root.output.contains("/dev/vda3"), "the overlay's upper layer is on the persistence partition: \(root.output)")
        #expect(root.output.contains("key 600 root"), "the cluster key from the ESP, root's alone: \(root.output)")
        #expect(image.manifest.mediumID.isEmpty == false)
        print("disk boot \(firmware): login prompt after \(login); log \(log)")
        try await body(vm)
    }

    /// Boots the disk with the live kernel loaded directly (the menus are covered above), so
    /// the command line is exactly `persistence` or not.
    static func boot(_ disk: String, persistence: Bool, name: String, _ body: (Qemu.VM) async throws -> Void) async throws {
        let image = try await Fixtures.shared.image("cluster")
        let machine = Qemu.Machine(
            memoryMiB: 1536, cpus: 1, media: [.virtioDisk(disk, format: "qcow2")], accelerator: Qemu.Accelerator.probe(),
            directKernel: .init(kernel: image.kernel, initramfs: image.initramfs,
                                commandLine: "console=ttyS0,115200" + (persistence ? " persistence" : "")))
        let log = Self.logPath(name)
        let vm = try Qemu.VM(machine: machine, consoleLog: log)
        defer { Self.finish(vm, log: log) }
        try await vm.waitFor(pattern: "root@node-", timeout: Self.deadline)
        try await body(vm)
    }
}
