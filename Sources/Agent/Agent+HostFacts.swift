#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Jobs
import NodeConfig

extension Agent {
    /// Reads what node configuration depends on off the running machine: network interfaces
    /// and their MACs (/sys/class/net), the DMI serial and product UUID (/sys/class/dmi/id) and
    /// the kernel command line (/proc/cmdline).
    public enum HostFacts {
        /// Reads the facts below `root` (tests point it at a fake tree).
        public static func read(root: String = "") -> NodeConfig.Facts {
            let net = root + "/sys/class/net"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: net)) ?? []
            var interfaces: [NodeConfig.Facts.Interface] = []
            for name in names.sorted() where name != "lo" {
                guard let mac = text(net + "/" + name + "/address"), !mac.isEmpty else { continue }
                // Only Ethernet-like devices (ARPHRD_ETHER = 1) have a MAC worth an identity.
                guard text(net + "/" + name + "/type") == "1" else { continue }
                let physical = FileManager.default.fileExists(atPath: net + "/" + name + "/device")
                interfaces.append(.init(name: name, mac: mac, physical: physical))
            }
            return NodeConfig.Facts(
                interfaces: interfaces,
                dmiSerial: text(root + "/sys/class/dmi/id/product_serial"),
                productUUID: text(root + "/sys/class/dmi/id/product_uuid"),
                kernelCommandLine: text(root + "/proc/cmdline") ?? "",
                machineID: text(root + "/etc/machine-id"),
                chosenMAC: text(root + Configurator.primaryMACFile))
        }

        /// A small file's text without surrounding whitespace; nil when unreadable (DMI files
        /// are root-only, VMs may lack them). Read to its end with plain reads: /proc files
        /// report size 0, and FileManager returned only their first 4,096 bytes, which cut
        /// /proc/self/mountinfo (a node's NFS /home was on line 35) and would cut /proc/cpuinfo
        /// of a machine with more than a few CPUs.
        public static func text(_ path: String) -> String? {
            guard let value = Jobs.ProcFiles.read(path) else { return nil }
            let trimmed = value.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed()
            return String(trimmed)
        }
    }
}
