import Profile

/// What `livebuild inspect` found in an image: the same facts for every kind of input, so an
/// ISO, a disk image, a PXE tree and a bare squashfs of one build read alike.
public struct Inspection: Encodable, Sendable, Equatable {
    public enum Kind: String, Encodable, Sendable {
        case iso, disk, squashfs, pxe
    }

    /// A file of the image and its size.
    public struct File: Encodable, Sendable, Equatable {
        public var path: String
        public var size: UInt64
    }

    /// A disk image's partition.
    public struct Partition: Encodable, Sendable, Equatable {
        public var number: Int
        public var name: String
        public var type: String
        public var filesystem: String
        public var label: String
        public var size: UInt64
    }

    /// One boot-menu entry, as the BIOS loader's menu (isolinux, syslinux, pxelinux) has it.
    public struct BootEntry: Encodable, Sendable, Equatable {
        public var label: String
        public var commandLine: String
    }

    public struct Squashfs: Encodable, Sendable, Equatable {
        public var size: UInt64
        public var compression: String
        public var blockSize: UInt32
        public var inodes: UInt32
    }

    /// From the build's manifest.json, when the image lies in a build's output directory.
    public struct Build: Encodable, Sendable, Equatable {
        public var livebuildVersion: String
        public var sourceDateEpoch: Int64
        public var profileSHA256: String
        public var base: String
        /// Whether the image's sha256 is the one the manifest lists (nil: it lists none).
        public var digestMatches: Bool?
    }

    public var kind: Kind
    public var path: String
    /// The image file's size (a PXE tree: its files together).
    public var size: UInt64
    /// The medium id: the ISO's marker, the disk's live-partition name, the PXE tree's menus.
    public var mediumID: String?
    /// The profile's name and description, from /etc/livebuild/profile.json in the image.
    public var profile: String?
    public var description: String?
    /// PRETTY_NAME of the image's os-release.
    public var operatingSystem: String?
    public var kernels: [String]
    public var packages: [DpkgStatus.Package]
    public var bootEntries: [BootEntry]
    /// The profile's `cluster` section (the node configuration), values that look like
    /// secrets masked.
    public var nodeConfiguration: JSONValue?
    /// The fingerprint of the cluster key the medium hands a node (``ClusterKeyImage``, outside
    /// the squashfs; the key itself is never shown).
    public var clusterKeyFingerprint: String?
    /// The squashfs itself holds the key (an image built before the key left it): anyone the
    /// image is served to has the key. Rebuild it.
    public var clusterKeyInSquashfs: Bool?
    public var squashfs: Squashfs?
    public var partitions: [Partition]
    public var files: [File]
    public var build: Build?

    /// Keys whose string values `inspect` never shows.
    static let secretKeys = ["password", "secret", "token", "passphrase", "privatekey"]

    /// `value` with every string under a key that names a secret replaced by `********`.
    static func masked(_ value: JSONValue, key: String = "") -> JSONValue {
        let lowered = key.lowercased()
        switch value {
        case .string where secretKeys.contains(where: { lowered.contains($0) }):
            return .string("********")
        case .object(let members):
            return .object(Dictionary(uniqueKeysWithValues: members.map { ($0.key, masked($0.value, key: $0.key)) }))
        case .array(let items):
            return .array(items.map { masked($0, key: key) })
        default:
            return value
        }
    }

    /// The report for people: one fact per line, lists indented.
    public func text() -> String {
        var lines = ["\(path): \(kindDescription), \(Self.size(size))"]
        func fact(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            lines.append("  " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + value)
        }
        fact("medium id", mediumID)
        if let build {
            let digest = build.digestMatches.map { $0 ? "; sha256 as its manifest lists" : "; sha256 DIFFERS from its manifest: the image changed or is damaged" } ?? ""
            fact("built by", "livebuild \(build.livebuildVersion), SOURCE_DATE_EPOCH \(build.sourceDateEpoch), profile sha256 \(build.profileSHA256.prefix(16))\(digest)")
        }
        fact("profile", profile.map { name in description.map { "\(name): \($0)" } ?? name })
        fact("system", operatingSystem)
        fact("kernel", kernels.joined(separator: ", "))
        if let squashfs {
            fact("squashfs", "\(Self.size(squashfs.size)), \(squashfs.compression), \(squashfs.blockSize)-byte blocks, \(squashfs.inodes) inodes")
        }
        fact("cluster key", clusterKeyFingerprint.map { "fingerprint \($0) (the key is not shown)" + (clusterKeyInSquashfs == true ? "; WARNING: inside the squashfs, which a head serves to its network: rebuild the image" : ", outside the squashfs") })
        if !partitions.isEmpty {
            lines.append("  partitions")
            for partition in partitions {
                let label = partition.label.isEmpty ? "" : " label \(partition.label)"
                lines.append("    \(partition.number)  \(partition.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(Self.size(partition.size).padding(toLength: 10, withPad: " ", startingAt: 0)) \(partition.filesystem.isEmpty ? "-" : partition.filesystem)\(label)")
            }
        }
        if !bootEntries.isEmpty {
            lines.append("  boot entries")
            for entry in bootEntries {
                lines.append("    \(entry.label)")
                lines.append("      \(entry.commandLine)")
            }
        }
        if let nodeConfiguration {
            lines.append("  node configuration (secrets masked)")
            lines.append("    " + nodeConfiguration.canonicalJSON)
        }
        if !files.isEmpty {
            lines.append("  files")
            for file in files {
                lines.append("    \(file.path.padding(toLength: 32, withPad: " ", startingAt: 0)) \(Self.size(file.size))")
            }
        }
        lines.append("  packages (\(packages.count))")
        for package in packages {
            lines.append("    \(package.name.padding(toLength: 32, withPad: " ", startingAt: 0)) \(package.version)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var kindDescription: String {
        switch kind {
        case .iso: "hybrid ISO image"
        case .disk: "GPT disk image"
        case .squashfs: "squashfs root filesystem"
        case .pxe: "PXE tree"
        }
    }

    /// Bytes in MiB with one decimal, exact below 1 MiB.
    static func size(_ bytes: UInt64) -> String {
        guard bytes >= 1 << 20 else { return "\(bytes) bytes" }
        let tenths = (bytes * 10 + (1 << 19)) >> 20
        return "\(tenths / 10).\(tenths % 10) MiB"
    }
}
