#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import NodeConfig

extension Agent {
    /// Applies the node's resolved configuration to the running system, once at boot before
    /// networking starts (`clusterd configure`, from clusterd-config.service): the host name,
    /// a static address when one is configured (DHCP stays the default), and root's SSH
    /// authorized keys.
    public struct Configurator: Sendable {
        /// Prefix for every path written (tests use a temporary directory).
        public var root: String
        /// Whether to call sethostname(2) (not in tests).
        public var setKernelHostname: Bool

        public init(root: String = "", setKernelHostname: Bool = true) {
            self.root = root
            self.setKernelHostname = setKernelHostname
        }

        /// Where the settings below live; the agent's control socket is there too.
        static let stateDirectory = "/run/clusterd"

        /// The MAC of the card the node's identity came from, chosen once at boot
        /// (``NodeConfig/Facts/chosenMAC``).
        public static let primaryMACFile = "/run/clusterd/primary-mac"

        /// Present when this node is the head (clusterd-head.service's condition).
        public static let headMarker = "/run/clusterd/role-head"

        /// The head's DHCP range (`FIRST,LAST[,NETMASK]`), when it is the cluster LAN's DHCP
        /// server; `clusterd serve-boot` reads it.
        public static let dhcpRangeFile = "/run/clusterd/head-dhcp-range"

        /// What `clusterd share` (clusterd-share.service) does: `export PATH` on the head,
        /// `mount SERVER PATH` elsewhere; absent when there is nothing to share or to mount.
        public static let shareFile = "/run/clusterd/share"

        /// The networkd file for a static address; ahead of the image's DHCP default by name.
        public static let networkFile = "/run/systemd/network/10-livebuild-cluster.network"

        /// What was changed, one line each, for the journal.
        public func apply(_ node: NodeConfig.Resolved, primaryMAC: String?) throws(Failure) -> [String] {
            var changes: [String] = []
            let hostname = node.hostname.value
            try write(hostname + "\n", to: "/etc/hostname", mode: 0o644)
            try write(Self.hosts(hostname: hostname, existing: read("/etc/hosts")), to: "/etc/hosts", mode: 0o644)
            if setKernelHostname {
                let bytes = Array(hostname.utf8)
                guard sethostname(bytes, bytes.count) == 0 else {
                    throw Failure("cannot set the host name to \(hostname): \(String(cString: strerror(errno)))")
                }
            }
            changes.append("hostname \(hostname) (\(node.hostname.source))")
            if let primaryMAC {
                try write(primaryMAC + "\n", to: Self.primaryMACFile, mode: 0o644)
            }

            if let address = node.address.value {
                guard let mac = primaryMAC else {
                    throw Failure("a static address \(address) is configured (\(node.address.source)) but this machine has no network interface to put it on")
                }
                try write(Self.staticNetwork(mac: mac, address: address, gateway: node.gateway.value),
                          to: Self.networkFile, mode: 0o644)
                changes.append("static address \(address) on \(mac) (\(node.address.source))")
            } else {
                changes.append("address by DHCP (\(node.address.source))")
            }

            // The head serves PXE from its boot medium: clusterd-head.service starts when this
            // file exists (ConditionPathExists).
            if node.role.value == .head {
                try write("head (\(node.role.source))\n", to: Self.headMarker, mode: 0o644)
                if let range = node.dhcpRange.value {
                    try write(range + "\n", to: Self.dhcpRangeFile, mode: 0o644)
                    changes.append("role head (\(node.role.source)): clusterd-head.service serves PXE from the boot medium, DHCP \(range) (\(node.dhcpRange.source))")
                } else {
                    unlink(root + Self.dhcpRangeFile)
                    changes.append("role head (\(node.role.source)): clusterd-head.service serves PXE from the boot medium, proxy DHCP")
                }
            } else {
                unlink(root + Self.headMarker)
                unlink(root + Self.dhcpRangeFile)
                changes.append("role node (\(node.role.source))")
            }

            switch node.share {
            case .export(let path):
                try write("export \(path)\n", to: Self.shareFile, mode: 0o644)
                changes.append("exports \(path) over NFS (\(node.sharedPath.source))")
            case .mount(let server, let path):
                try write("mount \(server) \(path)\n", to: Self.shareFile, mode: 0o644)
                changes.append("mounts \(server):\(path) (\(node.sharedServer.source))")
            case .discover(let path):
                try write("discover \(path)\n", to: Self.shareFile, mode: 0o644)
                changes.append("mounts \(path) from the member that exports it, once the agent sees one (\(node.sharedPath.source))")
            case nil:
                unlink(root + Self.shareFile)
                changes.append("no shared directory (\(node.sharedPath.source))")
            }

            let keys = node.sshAuthorizedKeys.value
            if !keys.isEmpty {
                try makeDirectory("/root/.ssh", mode: 0o700)
                try write(keys.joined(separator: "\n") + "\n", to: "/root/.ssh/authorized_keys", mode: 0o600)
                changes.append("\(keys.count) SSH authorized key(s) for root (\(node.sshAuthorizedKeys.source))")
            }
            return changes
        }

        /// /etc/hosts with the Debian-style `127.0.1.1 HOSTNAME` line replaced or added.
        static func hosts(hostname: String, existing: String?) -> String {
            var lines = (existing ?? "127.0.0.1\tlocalhost\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            lines.removeAll { $0.hasPrefix("127.0.1.1") }
            let insertAt = (lines.firstIndex { $0.hasPrefix("127.0.0.1") }).map { $0 + 1 } ?? 0
            lines.insert("127.0.1.1\t\(hostname)", at: insertAt)
            return lines.joined(separator: "\n") + "\n"
        }

        static func staticNetwork(mac: String, address: String, gateway: String?) -> String {
            var text = """
                # Written by clusterd configure: a static address from the node configuration.
                [Match]
                MACAddress=\(mac)

                [Network]
                Address=\(address)

                """
            if let gateway { text += "Gateway=\(gateway)\n" }
            return text
        }

        private func read(_ path: String) -> String? {
            FileManager.default.contents(atPath: root + path).map { String(decoding: $0, as: UTF8.self) }
        }

        /// Creates a directory (and its parents) with `mode` if it does not exist yet; an existing
        /// one keeps its mode.
        private func makeDirectory(_ path: String, mode: Int) throws(Failure) {
            guard !FileManager.default.fileExists(atPath: root + path) else { return }
            do {
                try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true)
            } catch {
                throw Failure("cannot create \(root + path): \(error)")
            }
            _ = chmod(root + path, mode_t(mode))
        }

        /// Writes through a temporary file and rename, so a crash never leaves half a file.
        private func write(_ text: String, to path: String, mode: Int) throws(Failure) {
            let target = root + path
            let directory = String(target[..<(target.lastIndex(of: "/") ?? target.startIndex)])
            if !directory.isEmpty {
                let relative = String(directory.dropFirst(root.count))
                try makeDirectory(relative, mode: relative == Self.stateDirectory ? 0o750 : 0o755)
                // The agent's control socket lives there too: root and the cluster group only,
                // as the agent makes it when it comes first.
                if relative == Self.stateDirectory, let group = getgrnam("cluster") {
                    _ = chown(directory, 0, group.pointee.gr_gid)
                }
            }
            let temporary = target + ".clusterd-new"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
                throw Failure("cannot write \(target)")
            }
            _ = chmod(temporary, mode_t(mode))
            guard rename(temporary, target) == 0 else {
                throw Failure("cannot replace \(target): \(String(cString: strerror(errno)))")
            }
        }
    }
}
