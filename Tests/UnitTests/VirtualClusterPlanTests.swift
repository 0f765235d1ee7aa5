import Foundation
import Qemu
import Testing
@testable import VirtualCluster

/// The virtual cluster's plan: names, MACs, files, and the command lines of ip, dnsmasq and QEMU.
@Suite struct VirtualClusterPlanTests {
    static let runDirectory = "/var/lib/livebuild/cluster"

    static func plan(nodes: Int = 2, firmware: Qemu.Firmware = .bios) throws -> VirtualCluster.Plan {
        try VirtualCluster.Plan(
            .init(runDirectory: runDirectory, image: "/img/cluster.iso", count: nodes, firmware: firmware), accelerator: .tcg)
    }

    @Test func namespaceIsDerivedFromTheAbsoluteRunDirectory() throws {
        let name = VirtualCluster.Plan.namespaceName(runDirectory: Self.runDirectory)
        #expect(name.count == 12 && name.hasPrefix("lbc-"))
        #expect(name.dropFirst(4).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(VirtualCluster.Plan.namespaceName(runDirectory: "/var/lib/livebuild/./cluster/") == name, "same directory, same namespace")
        #expect(VirtualCluster.Plan.namespaceName(runDirectory: "/var/lib/livebuild/other/../cluster") == name)
        #expect(VirtualCluster.Plan.namespaceName(runDirectory: "/var/lib/livebuild/cluster2") != name)
        #expect(try Self.plan().namespace == name)
    }

    @Test func relativePathsAreMadeAbsoluteAgainstTheCurrentDirectory() {
        #expect(VirtualCluster.Plan.absolute("run", in: "/work/x") == "/work/x/run")
        #expect(VirtualCluster.Plan.absolute("../run/", in: "/work/x") == "/work/run")
        #expect(VirtualCluster.Plan.absolute("/abs//run", in: "/work/x") == "/abs/run")
    }

    @Test(arguments: [(1, "52:54:00:4c:42:01"), (10, "52:54:00:4c:42:0a"), (64, "52:54:00:4c:42:40")])
    func macs(index: Int, mac: String) {
        #expect(VirtualCluster.Plan.mac(index: index) == mac)
    }

    @Test func nodesGetNamesTapsAndFilesInTheRunDirectory() throws {
        let plan = try Self.plan(nodes: 3)
        #expect(plan.nodes.map(\.name) == ["node1", "node2", "node3"])
        #expect(plan.nodes.map(\.tap) == ["tap1", "tap2", "tap3"])
        #expect(Set(plan.nodes.map(\.mac)).count == 3)
        let node = plan.nodes[1]
        #expect(node.consoleLog == Self.runDirectory + "/node2.console.log")
        #expect(node.agentSocket == Self.runDirectory + "/node2.qga")
        #expect(node.pidFile == Self.runDirectory + "/node2.pid")
        #expect(node.uefiVars == nil)
        #expect(plan.stateFile == Self.runDirectory + "/cluster.json")
        #expect(try Self.plan(firmware: .uefi(.init(code: "/fw/C.fd", varsTemplate: "/fw/V.fd"))).nodes[0].uefiVars
            == Self.runDirectory + "/node1.OVMF_VARS.fd")
    }

    /// `cluster up --pxe`: a diskless node has no medium, boots from its card first, and may use
    /// UEFI in a BIOS cluster (its own variable store).
    @Test func networkBootNodesHaveNoMediumAndBootFromTheirCard() throws {
        let plan = try VirtualCluster.Plan(
            .init(runDirectory: Self.runDirectory, nodes: [.init(image: "/img/cluster.iso"), .network(uefi: false), .network(uefi: true)]),
            accelerator: .tcg)
        let head = plan.qemuArguments(for: plan.nodes[0]).joined(separator: " ")
        #expect(head.contains("file=/img/cluster.iso") && head.contains("mac=52:54:00:4c:42:01 "), "the head boots its CD, its card is no boot device")
        #expect(plan.nodes[1].networkBoot == true && plan.nodes[1].uefiVars == nil)
        let bios = plan.qemuArguments(for: plan.nodes[1]).joined(separator: " ")
        #expect(!bios.contains("cdrom") && !bios.contains("-drive if=none"))
        #expect(bios.contains("virtio-net-pci,id=net0-nic,netdev=net0,mac=52:54:00:4c:42:02,bootindex=0"))
        #expect(!bios.contains("pflash"))
        #expect(bios.contains("-boot reboot-timeout=5000"), "a failed PXE attempt retries")
        let uefi = plan.qemuArguments(for: plan.nodes[2]).joined(separator: " ")
        #expect(!uefi.contains("reboot-timeout"))
        #expect(!head.contains("reboot-timeout"))
        #expect(plan.nodes[2].uefiVars != nil && uefi.contains("pflash") && uefi.contains("bootindex=0"))
    }

    @Test func eachNodeMayBootItsOwnImage() throws {
        let plan = try VirtualCluster.Plan(
            .init(runDirectory: Self.runDirectory, nodes: [.init(image: "/img/a.iso"), .init(image: "/img/a.iso"), .init(image: "/img/b.iso")]),
            accelerator: .tcg)
        #expect(plan.nodes.map(\.image) == ["/img/a.iso", "/img/a.iso", "/img/b.iso"])
        #expect(plan.qemuArguments(for: plan.nodes[2]).contains("if=none,id=cd0-drive,format=raw,file=/img/b.iso,media=cdrom,readonly=on"))
    }

    @Test func qemuCommandLine() throws {
        let plan = try Self.plan()
        let node = plan.nodes[1]
        let expected = [
            "ip", "netns", "exec", plan.namespace, "qemu-system-x86_64",
            "-no-user-config", "-machine", "q35,accel=tcg", "-cpu", "max", "-m", "1024", "-smp", "1",
            "-display", "none", "-parallel", "none",
            "-smbios", "type=1,serial=node2",
            "-daemonize", "-pidfile", Self.runDirectory + "/node2.pid",
            "-chardev", "file,id=console,path=\(Self.runDirectory)/node2.console.log", "-serial", "chardev:console", "-monitor", "none",
            "-device", "virtio-serial-pci,id=virtio-serial0",
            "-chardev", "socket,id=qga,path=\(Self.runDirectory)/node2.qga,server=on,wait=off",
            "-device", "virtserialport,bus=virtio-serial0.0,chardev=qga,name=org.qemu.guest_agent.0",
            "-netdev", "tap,id=net0,ifname=tap2,script=no,downscript=no",
            "-device", "virtio-net-pci,id=net0-nic,netdev=net0,mac=52:54:00:4c:42:02",
            "-drive", "if=none,id=cd0-drive,format=raw,file=/img/cluster.iso,media=cdrom,readonly=on",
            "-device", "ide-cd,id=cd0,drive=cd0-drive,bootindex=0",
        ]
        #expect(plan.qemuCommand(for: node) == expected)
        #expect(!plan.qemuArguments(for: node).contains("-nic"), "a node has a network card")
        #expect(!plan.qemuArguments(for: node).contains("-no-reboot"), "a node reboots like hardware")
    }

    @Test func uefiNodesGetTheirOwnVariableStore() throws {
        let plan = try Self.plan(firmware: .uefi(.init(code: "/fw/C.fd", varsTemplate: "/fw/V.fd")))
        let args = plan.qemuArguments(for: plan.nodes[0])
        #expect(args.contains("if=pflash,format=raw,unit=1,file=\(Self.runDirectory)/node1.OVMF_VARS.fd"))
    }

    @Test func networkIsBuiltInsideTheNamespaceOnly() throws {
        let plan = try Self.plan()
        let ns = plan.namespace
        #expect(plan.networkCommands == [
            ["ip", "netns", "add", ns],
            ["ip", "-n", ns, "link", "set", "lo", "up"],
            ["ip", "-n", ns, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"],
            ["ip", "-n", ns, "addr", "add", "10.77.0.1/24", "dev", "br0"],
            ["ip", "-n", ns, "link", "set", "br0", "up"],
            ["ip", "-n", ns, "tuntap", "add", "dev", "tap1", "mode", "tap"],
            ["ip", "-n", ns, "link", "set", "tap1", "master", "br0"],
            ["ip", "-n", ns, "link", "set", "tap1", "up"],
            ["ip", "-n", ns, "tuntap", "add", "dev", "tap2", "mode", "tap"],
            ["ip", "-n", ns, "link", "set", "tap2", "master", "br0"],
            ["ip", "-n", ns, "link", "set", "tap2", "up"],
        ])
        // Only the first command acts outside the namespace, and it only creates the namespace.
        #expect(plan.networkCommands.dropFirst().allSatisfy { $0.starts(with: ["ip", "-n", ns]) })
    }

    @Test func dnsmasqServesDHCPOnlyOnTheBridge() throws {
        let plan = try Self.plan()
        #expect(plan.dnsmasqCommand == [
            "ip", "netns", "exec", plan.namespace, "dnsmasq",
            "--conf-file=/dev/null", "--no-hosts", "--no-resolv", "--port=0",
            "--bind-interfaces", "--interface=br0", "--except-interface=lo",
            "--dhcp-range=10.77.0.10,10.77.0.200,255.255.255.0,12h",
            "--dhcp-option=option:router", "--dhcp-authoritative",
            "--dhcp-leasefile=\(Self.runDirectory)/dnsmasq.leases",
            "--pid-file=\(Self.runDirectory)/dnsmasq.pid",
            "--log-facility=\(Self.runDirectory)/dnsmasq.log", "--log-dhcp",
        ])
    }

    @Test(arguments: [0, VirtualCluster.maximumNodes + 1])
    func nodeCountOutOfRangeIsRejected(count: Int) {
        #expect(throws: VirtualCluster.Error.self) { try Self.plan(nodes: count) }
    }

    @Test func badPathsAreRejectedWithWhatToDo() {
        let relative = #expect(throws: VirtualCluster.Error.self) {
            try VirtualCluster.Plan(.init(runDirectory: "run", image: "/img/a.iso", count: 1), accelerator: .tcg)
        }
        #expect(relative?.message.contains("absolute") == true)
        let long = #expect(throws: VirtualCluster.Error.self) {
            try VirtualCluster.Plan(.init(runDirectory: "/" + String(repeating: "d", count: 100), image: "/img/a.iso", count: 1), accelerator: .tcg)
        }
        #expect(long?.message.contains("too long for Unix socket paths") == true)
    }

    /// A panicked guest never answers its guest agent: waiting fails at once, with the line.
    /// Consoles hold bytes that are not UTF-8 (firmware) and CR LF line ends, which must not
    /// hide the panic.
    @Test func kernelPanicOnTheConsoleIsFound() throws {
        let path = NSTemporaryDirectory() + "/console-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bytes = Data([0xff, 0xfe, 0x1b]) + Data("[    7.65] Oops: general protection fault\r\n".utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(VirtualCluster.Controller.kernelPanic(consoleLog: path) == nil)
        bytes += Data("[    7.66] Kernel panic - not syncing: Fatal exception in interrupt\r\n[    7.67] Kernel Offset: 0x18200000\r\n".utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(VirtualCluster.Controller.kernelPanic(consoleLog: path) == "Kernel panic - not syncing: Fatal exception in interrupt")
        #expect(VirtualCluster.hostname(mac: "52:54:00:4c:42:0a") == "node-4c420a")
    }

    /// OVMF that found nothing to boot starts its shell and waits for a keyboard: `up` must see
    /// it (to power-cycle the node), and must not mistake the boot-option lines before it.
    @Test func ovmfFallingIntoItsShellIsFound() throws {
        let path = NSTemporaryDirectory() + "/console-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bytes = Data([0x1b, 0x5b, 0x3d, 0x33, 0x68]) + Data("Configuring (net0 52:54:00:4c:42:06)..... No configuration methods succeeded\r\n".utf8)
            + Data("BdsDxe: failed to load Boot0001 \"UEFI PXEv4 (MAC:5254004C4206)\": Not Found\r\n".utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(VirtualCluster.Controller.firmwareGaveUp(consoleLog: path) == nil)
        bytes += Data("BdsDxe: loading Boot0006 \"EFI Internal Shell\" from Fv(7CB8)\r\nBdsDxe: starting Boot0006 \"EFI Internal Shell\" from Fv(7CB8)\r\nShell> ".utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(VirtualCluster.Controller.firmwareGaveUp(consoleLog: path) == "BdsDxe: starting Boot0006 \"EFI Internal Shell\" from Fv(7CB8)")
    }

    @Test func stateFileRoundTrip() throws {
        let plan = try Self.plan()
        let state = plan.state(pids: ["node1": 4242, "node2": 4343])
        let data = try state.encoded()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"namespace\" : \"\(plan.namespace)\""))
        #expect(text.contains("\"mac\" : \"52:54:00:4c:42:02\""))
        let decoded = try VirtualCluster.State.decode(data, path: "cluster.json")
        #expect(decoded == state)
        #expect(decoded.nodes.map(\.pid) == [4242, 4343])
        #expect(try decoded.node("node2").pid == 4343)
        #expect(try decoded.node("1").name == "node1")
        let unknown = #expect(throws: VirtualCluster.Error.self) { try decoded.node("node3") }
        #expect(unknown?.message.contains("node1..node2") == true)
        #expect(throws: VirtualCluster.Error.self) { try VirtualCluster.State.decode(Data("{}".utf8), path: "cluster.json") }
    }
}
