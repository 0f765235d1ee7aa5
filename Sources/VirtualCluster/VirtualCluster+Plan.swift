import Crypto
import Foundation
import Qemu

extension VirtualCluster {
    /// Everything `up` will create, as plain values: the namespace, the nodes with their MACs,
    /// taps and files, and the command lines of dnsmasq and of each QEMU. Pure: building a plan
    /// touches neither the filesystem nor the network.
    public struct Plan: Sendable, Hashable {
        public var runDirectory: String
        public var namespace: String
        public var network: Network
        public var nodes: [Node]
        public var memoryMiB: Int
        public var cpus: Int
        public var firmware: Qemu.Firmware
        public var accelerator: Qemu.Accelerator

        /// - Parameters:
        ///   - configuration: its `runDirectory` and images must be absolute paths
        ///     (`Plan.absolute(_:in:)` makes them so).
        ///   - accelerator: used when the configuration leaves it open.
        public init(_ configuration: Configuration, accelerator defaultAccelerator: Qemu.Accelerator) throws(VirtualCluster.Error) {
            let runDirectory = Self.normalized(configuration.runDirectory)
            guard runDirectory.hasPrefix("/") else {
                throw Error(.configuration, "run directory \(configuration.runDirectory): give an absolute path")
            }
            guard (1...VirtualCluster.maximumNodes).contains(configuration.nodes.count) else {
                throw Error(.configuration, "\(configuration.nodes.count) nodes: a cluster has 1 to \(VirtualCluster.maximumNodes) nodes")
            }
            guard configuration.memoryMiB >= 256 else {
                throw Error(.configuration, "\(configuration.memoryMiB) MiB per node: give at least 256 MiB")
            }
            guard (1...64).contains(configuration.cpus) else {
                throw Error(.configuration, "\(configuration.cpus) CPUs per node: give 1 to 64")
            }
            // Unix socket paths hold at most 107 bytes; the longest is .../node64.qga.lock.
            let longest = Self.nodeFile(runDirectory, name: "node\(VirtualCluster.maximumNodes)", suffix: ".qga.lock")
            guard longest.utf8.count <= Self.socketPathLimit else {
                throw Error(.configuration, "run directory \(runDirectory) is too long for Unix socket paths; use one of at most \(Self.socketPathLimit - (longest.utf8.count - runDirectory.utf8.count)) bytes")
            }
            for spec in configuration.nodes where !spec.networkBoot && !spec.image.hasPrefix("/") {
                throw Error(.configuration, "image \(spec.image): give an absolute path")
            }

            self.runDirectory = runDirectory
            namespace = Self.namespaceName(runDirectory: runDirectory)
            network = Network()
            memoryMiB = configuration.memoryMiB
            cpus = configuration.cpus
            firmware = configuration.firmware
            accelerator = configuration.accelerator ?? defaultAccelerator
            let uefi: Bool = if case .uefi = configuration.firmware { true } else { false }
            nodes = configuration.nodes.enumerated().map { offset, spec in
                let index = offset + 1
                let name = "node\(index)"
                var node = Node(
                    index: index, name: name, mac: Self.mac(index: index), tap: "tap\(index)", image: Self.normalized(spec.image),
                    consoleLog: Self.nodeFile(runDirectory, name: name, suffix: ".console.log"),
                    agentSocket: Self.nodeFile(runDirectory, name: name, suffix: ".qga"),
                    pidFile: Self.nodeFile(runDirectory, name: name, suffix: ".pid"),
                    uefiVars: spec.uefi ?? uefi ? Self.nodeFile(runDirectory, name: name, suffix: ".OVMF_VARS.fd") : nil)
                if spec.networkBoot { node.networkBoot = true }
                return node
            }
        }

        static let socketPathLimit = 107

        // MARK: - Names

        /// The namespace of the cluster running from `runDirectory`: `lbc-` and the first 8 hex
        /// digits of the SHA-256 of the absolute path. Derived, not stored, so `down` finds it
        /// even when the state file is gone.
        public static func namespaceName(runDirectory: String) -> String {
            let digest = SHA256.hash(data: Data(normalized(runDirectory).utf8))
            return "lbc-" + digest.prefix(4).map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined()
        }

        /// `52:54:00:4c:42:NN` (QEMU's prefix, then "LB", then the node index in hex).
        public static func mac(index: Int) -> String {
            let hex = String(index & 0xFF, radix: 16)
            return "52:54:00:4c:42:" + (hex.count == 1 ? "0" + hex : hex)
        }

        /// `path` made absolute against `directory` and cleaned (`.`, `..`, double and trailing
        /// slashes); symbolic links are not resolved.
        public static func absolute(_ path: String, in directory: String) -> String {
            normalized(path.hasPrefix("/") ? path : directory + "/" + path)
        }

        static func normalized(_ path: String) -> String {
            guard path.hasPrefix("/") else { return path }
            var parts: [Substring] = []
            for part in path.split(separator: "/") {
                switch part {
                case ".": continue
                case "..": _ = parts.popLast()
                default: parts.append(part)
                }
            }
            return "/" + parts.joined(separator: "/")
        }

        static func nodeFile(_ runDirectory: String, name: String, suffix: String) -> String {
            (runDirectory == "/" ? "" : runDirectory) + "/" + name + suffix
        }

        // MARK: - Files

        public var stateFile: String { runDirectory + "/cluster.json" }
        public var dnsmasqPidFile: String { runDirectory + "/dnsmasq.pid" }
        public var dnsmasqLeaseFile: String { runDirectory + "/dnsmasq.leases" }
        public var dnsmasqLog: String { runDirectory + "/dnsmasq.log" }

        // MARK: - Command lines

        /// The `ip` commands that build the namespace and its network.
        public var networkCommands: [[String]] {
            network.setupCommands(namespace: namespace, taps: nodes.map(\.tap))
        }

        /// dnsmasq, started inside the namespace.
        public var dnsmasqCommand: [String] {
            network.dnsmasqCommand(namespace: namespace, pidFile: dnsmasqPidFile, leaseFile: dnsmasqLeaseFile, logFile: dnsmasqLog)
        }

        /// The machine of `node`: the shared hardware settings, its ISO as a CD-ROM, a virtio-net
        /// card with its MAC on its tap, and its name as SMBIOS serial. A guest reboot reboots
        /// the node, as on real hardware. A SeaBIOS network-boot node whose PXE attempt failed
        /// (DHCP timing out on a loaded host) reboots after 5 s and tries again, as PXE servers
        /// are usually set to; SeaBIOS alone honours QEMU's `reboot-timeout`.
        public func machine(for node: Node) -> Qemu.Machine {
            let network = node.networkBoot == true
            var machine = Qemu.Machine(
                memoryMiB: memoryMiB, cpus: cpus, firmware: firmware(for: node), media: network ? [] : [.cdrom(node.image)],
                accelerator: accelerator, exitOnReboot: false,
                network: [.init(backend: .tap(node.tap), mac: node.mac, bootIndex: network ? 0 : nil)], smbiosSerial: node.name)
            if network, case .bios = machine.firmware { machine.extraArguments += ["-boot", "reboot-timeout=5000"] }
            return machine
        }

        /// The node's own firmware: UEFI when it has a variable store, with the cluster's OVMF
        /// (or the installed one when the cluster boots BIOS); otherwise BIOS.
        public func firmware(for node: Node) -> Qemu.Firmware {
            guard node.uefiVars != nil else { return .bios }
            if case .uefi = firmware { return firmware }
            return .uefi(Self.installedOVMF)
        }

        static var installedOVMF: Qemu.OVMF {
            (try? Qemu.OVMF.installed()) ?? Qemu.OVMF(code: "/usr/share/OVMF/OVMF_CODE.fd", varsTemplate: "/usr/share/OVMF/OVMF_VARS.fd")
        }

        /// The host side of `node`: console log, guest-agent socket, daemonized with a pid file.
        public func session(for node: Node) -> Qemu.Session {
            Qemu.Session(consoleLog: node.consoleLog, uefiVars: node.uefiVars, guestAgentSocket: node.agentSocket,
                         daemonPidFile: node.pidFile)
        }

        /// The QEMU arguments of `node` (without the program name).
        public func qemuArguments(for node: Node) -> [String] {
            machine(for: node).arguments(session: session(for: node))
        }

        /// `ip netns exec NS qemu-system-x86_64 ...`: QEMU opens its tap inside the namespace and
        /// daemonizes, so the node outlives `up`.
        public func qemuCommand(for node: Node, qemu: String = Qemu.systemBinary) -> [String] {
            ["ip", "netns", "exec", namespace, qemu] + qemuArguments(for: node)
        }

        /// The state file's content for this plan with `pids` (by node name) filled in.
        public func state(pids: [String: Int32] = [:]) -> State {
            State(runDirectory: runDirectory, namespace: namespace, network: network,
                  dnsmasqPidFile: dnsmasqPidFile,
                  nodes: nodes.map { node in
                      var node = node
                      node.pid = pids[node.name]
                      return node
                  })
        }
    }
}
