import Archive
import ClusterWire
import Foundation
import Guestfs
import Logging
import Profile
import Squashfs

/// `livebuild inspect`: what is inside an ISO, a disk image, a PXE tree or a squashfs, without
/// booting it. ISOs are read with libarchive, disk images through libguestfs (read-only), the
/// root filesystem with libsquashfs; a squashfs held inside an ISO or a disk partition is
/// copied to a temporary file first.
public struct Inspector {
    public var logger: Logger
    /// Where temporary copies of squashfs images go.
    public var temporaryDirectory: String

    public init(logger: Logger, temporaryDirectory: String = NSTemporaryDirectory()) {
        self.logger = logger
        self.temporaryDirectory = temporaryDirectory
    }

    /// Files of an image worth listing with their sizes (relative to the medium's root).
    static let listedFiles = ["live/vmlinuz", "live/initrd.img", "live/filesystem.squashfs", "live/filesystem.squashfs.sha256"]

    public func inspect(_ path: String) async throws -> Inspection {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LiveBuildError(code: .input, message: "\(path) does not exist; inspect takes an ISO, a disk image (.img, .qcow2), a squashfs or a PXE tree directory")
        }
        var inspection: Inspection
        if isDirectory.boolValue {
            inspection = try inspectPXE(path)
        } else {
            switch try Self.kind(ofFile: path) {
            case .iso: inspection = try inspectISO(path)
            case .squashfs: inspection = try inspectSquashfs(path)
            case .disk(let format): inspection = try inspectDisk(path, format: format)
            case nil:
                throw LiveBuildError(code: .input, message: "\(path) is not an ISO 9660 image, a GPT disk image (raw or qcow2) or a squashfs image (no known signature in its first 40 KiB); is it damaged or truncated?")
            }
        }
        inspection.files.sort { $0.path < $1.path }
        inspection.build = try Self.build(of: path, isTree: inspection.kind == .pxe)
        return inspection
    }

    /// The facts of the build's manifest.json beside `path` (a build's output directory holds
    /// the image and the manifest; the squashfs and the PXE tree sit one level down).
    static func build(of path: String, isTree: Bool) throws -> Inspection.Build? {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        for directory in [url.deletingLastPathComponent(), url.deletingLastPathComponent().deletingLastPathComponent()] {
            guard let data = FileManager.default.contents(atPath: directory.path + "/manifest.json"),
                  let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else { continue }
            let relative = String(url.path.dropFirst(directory.path.count + 1))
            let listed = isTree ? nil : manifest.artefacts.first { $0.path == relative }
            return Inspection.Build(
                livebuildVersion: manifest.livebuildVersion, sourceDateEpoch: manifest.sourceDateEpoch,
                profileSHA256: manifest.profile.sha256, base: manifest.base,
                digestMatches: try listed.map { try FileDigest.sha256(path: url.path) == $0.sha256 })
        }
        return nil
    }

    enum FileKind: Equatable { case iso, squashfs, disk(format: String) }

    /// The kind of image by its signatures: squashfs `hsqs` at 0, qcow2 `QFI\xfb` at 0, ISO 9660
    /// `CD001` at 32769 (checked before GPT: a hybrid ISO carries a partition table too), GPT
    /// `EFI PART` at 512.
    static func kind(ofFile path: String) throws -> FileKind? {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LiveBuildError(code: .input, message: "cannot read \(path) (permissions?)")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 40 * 1024)) ?? Data())
        func at(_ offset: Int, _ signature: [UInt8]) -> Bool {
            head.count >= offset + signature.count && Array(head[offset..<offset + signature.count]) == signature
        }
        if at(0, Array("hsqs".utf8)) { return .squashfs }
        if at(0, [0x51, 0x46, 0x49, 0xfb]) { return .disk(format: "qcow2") }
        if at(32769, Array("CD001".utf8)) { return .iso }
        if at(512, Array("EFI PART".utf8)) { return .disk(format: "raw") }
        return nil
    }

    // MARK: kinds

    func inspectSquashfs(_ path: String) throws -> Inspection {
        var inspection = Inspection(kind: .squashfs, path: path, size: try FileSize.of(path), kernels: [], packages: [], bootEntries: [], partitions: [], files: [])
        try readRoot(squashfs: path, into: &inspection)
        return inspection
    }

    func inspectISO(_ path: String) throws -> Inspection {
        var inspection = Inspection(kind: .iso, path: path, size: try FileSize.of(path), kernels: [], packages: [], bootEntries: [], partitions: [], files: [])
        let copy = temporaryDirectory + "/livebuild-inspect-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).squashfs"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        var haveSquashfs = false
        do {
            let reader = try Archive.Reader(path: path)
            while let entry = try reader.next() {
                let name = String(entry.path.drop { $0 == "/" || $0 == "." })
                if name.hasPrefix("live/"), name.hasSuffix(".medium") {
                    inspection.mediumID = String(name.dropFirst("live/".count).dropLast(".medium".count))
                } else if name == IsoLayout.isolinuxConfig {
                    inspection.bootEntries = Self.syslinuxEntries(String(decoding: try reader.readAll(), as: UTF8.self))
                } else if name == ClusterKeyImage.path {
                    inspection.clusterKeyFingerprint = ClusterKeyImage.fingerprint(of: try reader.readAll())
                } else if name == "live/filesystem.squashfs" {
                    FileManager.default.createFile(atPath: copy, contents: nil)
                    guard let output = FileHandle(forWritingAtPath: copy) else {
                        throw LiveBuildError(code: .output, message: "cannot write a temporary copy of the squashfs to \(copy); set TMPDIR to a writable directory with room")
                    }
                    defer { try? output.close() }
                    try reader.readContents { bytes in output.write(Data(bytes)) }
                    haveSquashfs = true
                }
                if Self.listedFiles.contains(name) {
                    inspection.files.append(.init(path: name, size: entry.size))
                }
            }
        } catch let error as LiveBuildError {
            throw error
        } catch {
            throw LiveBuildError(code: .input, message: "\(path) cannot be read as an ISO 9660 image: \(error); it is damaged or truncated", underlying: error)
        }
        guard haveSquashfs else {
            throw LiveBuildError(code: .input, message: "\(path) is an ISO without live/filesystem.squashfs: not a livebuild image (or a damaged one)")
        }
        try readRoot(squashfs: copy, into: &inspection)
        return inspection
    }

    func inspectPXE(_ directory: String) throws -> Inspection {
        let fileManager = FileManager.default
        let squashfs = directory + "/" + PxeLayout.squashfs
        guard fileManager.fileExists(atPath: directory + "/" + PxeLayout.ipxeScript) || fileManager.fileExists(atPath: directory + "/" + PxeLayout.pxelinuxConfig),
              fileManager.fileExists(atPath: squashfs) else {
            let hint = fileManager.fileExists(atPath: directory + "/" + PxeLayout.directory) ? " (did you mean \(directory)/\(PxeLayout.directory)?)" : ""
            throw LiveBuildError(code: .input, message: "\(directory) is not a PXE tree: it needs \(PxeLayout.ipxeScript) or \(PxeLayout.pxelinuxConfig) and \(PxeLayout.squashfs)\(hint)")
        }
        var inspection = Inspection(kind: .pxe, path: directory, size: 0, kernels: [], packages: [], bootEntries: [], partitions: [], files: [])
        for name in Self.listedFiles where fileManager.fileExists(atPath: directory + "/" + name) {
            inspection.files.append(.init(path: name, size: try FileSize.of(directory + "/" + name)))
        }
        inspection.size = try DiskStage.regularFiles(under: directory).reduce(UInt64(0)) { $0 + (try FileSize.of(directory + "/" + $1)) }
        if let config = fileManager.contents(atPath: directory + "/" + PxeLayout.pxelinuxConfig) {
            inspection.bootEntries = Self.syslinuxEntries(String(decoding: config, as: UTF8.self))
        }
        if let digest = fileManager.contents(atPath: directory + "/" + PxeLayout.squashfsDigest) {
            let expected = String(decoding: digest, as: UTF8.self).prefix { $0.isHexDigit }
            let actual = try FileDigest.sha256(path: squashfs)
            guard actual == expected else {
                throw LiveBuildError(code: .input, message: "\(squashfs) has sha256 \(actual), but \(PxeLayout.squashfsDigest) says \(expected): the tree is damaged or mixes two builds; copy it again from the build's output")
            }
        }
        try readRoot(squashfs: squashfs, into: &inspection)
        return inspection
    }

    func inspectDisk(_ path: String, format: String) throws -> Inspection {
        var inspection = Inspection(kind: .disk, path: path, size: try FileSize.of(path), kernels: [], packages: [], bootEntries: [], partitions: [], files: [])
        let copy = temporaryDirectory + "/livebuild-inspect-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).squashfs"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        do {
            let guestfs = try Guestfs(backend: .forThisHost(logger: logger), environment: ProcessInfo.processInfo.environment)
            try guestfs.addDrive(path, format: format, readOnly: true)
            try guestfs.launch()
            let device = "/dev/sda"
            var live: (node: String, size: UInt64)?
            for partition in try guestfs.partList(device) {
                let node = device + String(partition.number)
                let name = (try? guestfs.partGetName(device, partition: partition.number)) ?? ""
                let type = (try? guestfs.partGetGPTType(device, partition: partition.number)) ?? ""
                let filesystem = (try? guestfs.vfsType(node)) ?? ""
                let label = filesystem.isEmpty ? "" : ((try? guestfs.vfsLabel(node)) ?? "")
                inspection.partitions.append(.init(number: partition.number, name: name, type: type, filesystem: filesystem, label: label, size: partition.size))
                if type == DiskLayout.espType {
                    try guestfs.mount(node, at: "/", readOnly: true)
                    for file in [DiskStage.Files.kernel, DiskStage.Files.initrd] {
                        if let size = try? guestfs.fileSize("/" + file) { inspection.files.append(.init(path: file, size: size)) }
                    }
                    if let image = try? guestfs.readFile("/" + ClusterKeyImage.path) {
                        inspection.clusterKeyFingerprint = ClusterKeyImage.fingerprint(of: Array(image))
                    }
                    if let config = try? guestfs.readFile("/" + DiskStage.Files.syslinuxConfig) {
                        inspection.bootEntries = Self.syslinuxEntries(String(decoding: config, as: UTF8.self))
                    }
                    try guestfs.unmountAll()
                } else if filesystem == "squashfs" {
                    inspection.mediumID = name
                    live = (node, partition.size)
                }
            }
            guard let live else {
                throw LiveBuildError(code: .input, message: "\(path) has no partition holding a squashfs: not a livebuild disk image, or a damaged one (partitions: \(inspection.partitions.map { "\($0.number) \($0.name) \($0.filesystem)" }.joined(separator: ", ")))")
            }
            // The squashfs's own size is in its superblock (bytes_used at offset 40).
            let header = try guestfs.preadDevice(live.node, count: 96, offset: 0)
            let used = header.count >= 48 ? (0..<8).reduce(UInt64(0)) { $0 | UInt64(header[40 + $1]) << (8 * UInt64($1)) } : 0
            guard used > 0, used <= live.size else {
                throw LiveBuildError(code: .input, message: "the squashfs in \(live.node) of \(path) says it has \(used) bytes, but its partition has \(live.size): the image is damaged")
            }
            try guestfs.downloadOffset(live.node, to: copy, offset: 0, size: used)
            inspection.files.append(.init(path: "partition \(live.node.dropFirst(device.count)): squashfs", size: used))
            try guestfs.shutdown()
        } catch let error as Guestfs.Error {
            throw LiveBuildError(code: .input, message: "\(path) cannot be read as a disk image through libguestfs: \(error); it is damaged, truncated or not a disk image", underlying: error)
        }
        try readRoot(squashfs: copy, into: &inspection)
        return inspection
    }

    // MARK: the root filesystem

    /// Facts from the squashfs: os-release, kernels, packages, the profile and node
    /// configuration livebuild wrote into /etc/livebuild, and a cluster key an older build left
    /// in it.
    func readRoot(squashfs path: String, into inspection: inout Inspection) throws {
        let reader: Squashfs.Reader
        do {
            reader = try Squashfs.Reader(path: path)
        } catch {
            throw LiveBuildError(code: .input, message: "the squashfs of \(inspection.path) cannot be read: \(error); the image is damaged or truncated", underlying: error)
        }
        do {
            let superblock = reader.superblock
            inspection.squashfs = .init(size: try FileSize.of(path), compression: superblock.compression, blockSize: superblock.blockSize, inodes: superblock.inodeCount)
            func text(_ file: String) throws -> String? {
                try reader.contents(file).map { String(decoding: $0, as: UTF8.self) }
            }
            if let release = try text("etc/os-release") ?? text("usr/lib/os-release") {
                inspection.operatingSystem = release.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
                    .map { String($0.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            }
            let modules = try reader.list("usr/lib/modules") ?? reader.list("lib/modules") ?? []
            inspection.kernels = modules.filter { $0.kind == .directory }.map(\.name).sorted()
            if let status = try text("var/lib/dpkg/status") {
                inspection.packages = DpkgStatus.installed(status)
            }
            if let profile = try text("etc/livebuild/profile.json"),
               let value = try? JSONValue.parse(profile, file: "/etc/livebuild/profile.json") {
                inspection.profile = value["name"]?.stringValue
                inspection.description = value["description"]?.stringValue
                if let cluster = value["cluster"] { inspection.nodeConfiguration = Inspection.masked(cluster) }
            }
            // Images of livebuild before the key left the squashfs carried it here.
            if let key = try text("etc/livebuild/cluster.key"), let bytes = Wire.Keys.KeyFile.parse(key) {
                inspection.clusterKeyFingerprint = try Wire.Keys(clusterKey: bytes).fingerprint
                inspection.clusterKeyInSquashfs = true
            }
        } catch let error as Squashfs.Error {
            throw LiveBuildError(code: .input, message: "the squashfs of \(inspection.path) is damaged: \(error)", underlying: error)
        }
    }

    // MARK: menus

    /// The entries of a syslinux-family menu (isolinux.cfg, syslinux.cfg, pxelinux.cfg/default):
    /// each `MENU LABEL` with its `APPEND` line.
    static func syslinuxEntries(_ config: String) -> [Inspection.BootEntry] {
        var entries: [Inspection.BootEntry] = []
        for line in config.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.uppercased().hasPrefix("LABEL ") {
                entries.append(.init(label: String(line.dropFirst(6)), commandLine: ""))
            } else if line.uppercased().hasPrefix("MENU LABEL "), !entries.isEmpty {
                entries[entries.count - 1].label = String(line.dropFirst(11))
            } else if line.uppercased().hasPrefix("APPEND "), !entries.isEmpty {
                entries[entries.count - 1].commandLine = String(line.dropFirst(7))
            }
        }
        return entries
    }
}
