import Foundation
import Testing
@testable import Qemu

/// Command lines for the four ways a hybrid ISO boots, and the console helpers.
@Suite struct QemuArgumentsTests {
    static let ovmf = Qemu.OVMF(code: "/fw/CODE.fd", varsTemplate: "/fw/VARS.fd")
    static let session = Qemu.Session(consoleLog: "/logs/console.log", qmpSocket: "/run/qmp.sock", uefiVars: "/run/VARS.fd")

    static let common = [
        "-no-user-config", "-machine", "q35,accel=tcg", "-cpu", "max", "-m", "512", "-smp", "1",
        "-display", "none", "-nic", "none", "-parallel", "none", "-no-reboot",
    ]
    static let console = [
        "-chardev", "file,id=console,path=/logs/console.log", "-serial", "chardev:console", "-monitor", "none",
        "-qmp", "unix:/run/qmp.sock,server=on,wait=off",
    ]
    static let uefi = [
        "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/fw/CODE.fd",
        "-drive", "if=pflash,format=raw,unit=1,file=/run/VARS.fd",
    ]
    static let cd = [
        "-drive", "if=none,id=cd0-drive,format=raw,file=/img/live.iso,media=cdrom,readonly=on",
        "-device", "ide-cd,id=cd0,drive=cd0-drive,bootindex=0",
    ]
    static let stick = [
        "-device", "qemu-xhci,id=xhci",
        "-drive", "if=none,id=stick-drive,format=raw,file=/img/live.iso,readonly=on",
        "-device", "usb-storage,id=stick,drive=stick-drive,bus=xhci.0,removable=on,bootindex=0",
    ]

    static let modes: [(String, Qemu.Firmware, Qemu.Medium, [String])] = [
        ("BIOS CD", .bios, .cdrom("/img/live.iso"), common + console + cd),
        ("BIOS USB disk", .bios, .usbStick("/img/live.iso"), common + console + stick),
        ("UEFI CD", .uefi(ovmf), .cdrom("/img/live.iso"), common + uefi + console + cd),
        ("UEFI USB disk", .uefi(ovmf), .usbStick("/img/live.iso"), common + uefi + console + stick),
    ]

    @Test(arguments: modes)
    func bootModes(name: String, firmware: Qemu.Firmware, medium: Qemu.Medium, expected: [String]) {
        let machine = Qemu.Machine(memoryMiB: 512, cpus: 1, firmware: firmware, media: [medium], accelerator: .tcg)
        #expect(machine.arguments(session: Self.session) == expected, "\(name)")
    }

    @Test func directKernelTakesBootIndexZeroAndMediaFollow() {
        let machine = Qemu.Machine(
            memoryMiB: 512, cpus: 1, media: [.cdrom("/img/live.iso")], accelerator: .tcg,
            directKernel: .init(kernel: "/k/vmlinuz", initramfs: "/k/initrd.img", commandLine: "console=ttyS0 toram"))
        let args = machine.arguments(session: Self.session)
        #expect(args.contains("-kernel") && args.contains("/k/vmlinuz") && args.contains("console=ttyS0 toram"))
        #expect(args.contains("ide-cd,id=cd0,drive=cd0-drive,bootindex=1"))
    }

    /// A diskless PXE node on QEMU's user network: TFTP root and boot file on the netdev, the
    /// card first in the boot order.
    @Test func userNetworkServesTFTPAndTheCardBootsFirst() {
        let card = Qemu.NetworkInterface(backend: .user(tftpRoot: "/srv/p,xe", bootFile: "boot.ipxe"), mac: "52:54:00:4c:43:01", bootIndex: 0)
        #expect(card.arguments() == [
            "-netdev", "user,id=net0,tftp=/srv/p,,xe,bootfile=boot.ipxe",
            "-device", "virtio-net-pci,id=net0-nic,netdev=net0,mac=52:54:00:4c:43:01,bootindex=0",
        ])
        #expect(Qemu.NetworkInterface.tap("tap1", mac: "52:54:00:4c:42:01").arguments().last == "virtio-net-pci,id=net0-nic,netdev=net0,mac=52:54:00:4c:42:01")
    }

    @Test func consoleSocketAcceptsInputAndStillLogs() {
        let session = Qemu.Session(consoleLog: "/logs/console.log", consoleSocket: "/run/console.sock")
        let args = Qemu.Machine(accelerator: .tcg).arguments(session: session)
        #expect(args.contains("socket,id=console,path=/run/console.sock,server=on,wait=off,logfile=/logs/console.log,logappend=off"))
    }

    @Test func kvmUsesTheHostCPU() {
        let args = Qemu.Machine(accelerator: .kvm).arguments(session: Self.session)
        #expect(args.contains("q35,accel=kvm"))
        #expect(args[args.firstIndex(of: "-cpu")! + 1] == "host")
    }

    @Test func interactiveConsoleGoesToTheTerminalAndTheLog() {
        var session = Self.session
        session.consoleOnTerminal = true
        let args = Qemu.Machine().arguments(session: session)
        #expect(args.contains("stdio,id=console,mux=on,signal=off,logfile=/logs/console.log,logappend=off"))
        #expect(args.contains("chardev=console,mode=readline"))
        #expect(!args.contains("-monitor"))
    }

    @Test func uefiWithoutVarsCopyUsesASnapshotOfTheTemplate() {
        let args = Qemu.Machine(firmware: .uefi(Self.ovmf)).arguments(session: Qemu.Session(consoleLog: "/l"))
        #expect(args.contains("if=pflash,format=raw,unit=1,snapshot=on,file=/fw/VARS.fd"))
    }

    @Test func virtioFallbackAndCommaEscaping() {
        let machine = Qemu.Machine(media: [.virtioDisk("/img/a,b.iso", readOnly: true), .cdrom("/img/c.iso", id: "cd1")])
        let args = machine.arguments(session: Qemu.Session(consoleLog: "/l"))
        #expect(args.contains("if=none,id=disk0-drive,format=raw,file=/img/a,,b.iso,readonly=on"))
        #expect(args.contains("virtio-blk-pci,id=disk0,drive=disk0-drive,bootindex=0"))
        #expect(args.contains("ide-cd,id=cd1,drive=cd1-drive,bootindex=1"))
        #expect(!args.contains("qemu-xhci,id=xhci"))
    }

    @Test func acceleratorOverride() {
        #expect(Qemu.Accelerator.probe(environment: ["LIVEBUILD_ACCEL": "tcg"]) == .tcg)
        #expect(Qemu.Accelerator.probe(environment: ["LIVEBUILD_ACCEL": "KVM"]) == .kvm)
    }

    /// The KVM probe boots a real kernel (firmware alone ran under this project's broken
    /// nested KVM, whose guests then hung): the newest /boot/vmlinuz-* by version, to its panic.
    @Test func kvmProbeBootsTheNewestKernel() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("probe-kernels-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(Qemu.Accelerator.probeKernel(directory: directory) == nil)
        for name in ["vmlinuz-6.1.0-9-amd64", "vmlinuz-6.1.0-57-amd64", "config-6.12.0-1-amd64", "initrd.img-6.1.0-57-amd64"] {
            FileManager.default.createFile(atPath: directory + "/" + name, contents: Data())
        }
        #expect(Qemu.Accelerator.probeKernel(directory: directory) == directory + "/vmlinuz-6.1.0-57-amd64")
        let arguments = Qemu.Accelerator.probeArguments(kernel: "/boot/vmlinuz-x", serialLog: "/tmp/a,b.log")
        #expect(arguments.contains("q35,accel=kvm"))
        #expect(arguments.contains("file:/tmp/a,,b.log"))
        #expect(arguments.firstIndex(of: "-kernel").map { arguments[$0 + 1] } == "/boot/vmlinuz-x")
        #expect(arguments.contains("-no-reboot"))
    }

    @Test func consoleScanning() {
        let text = "a\n[ 1.0] Kernel panic - not syncing: x\nb\n[ 2.0] Oops: 0002 [#1]\n"
        #expect(Qemu.ConsoleLog.failures(in: text).count == 2)
        #expect(Qemu.ConsoleLog.tail(of: "1\n2\n3", lines: 2) == "2\n3")
        let match = Qemu.VM.find("needle", in: "héllo\nfound needle here\nx", from: 0)
        #expect(match?.line == "found needle here")
        #expect(match.map { Qemu.VM.find("needle", in: "héllo\nfound needle here\nx", from: $0.offset + 1) } == .some(nil))
    }
}
