import Filesystem
import Foundation
import Logging
import Profile
import Squashfs

/// The build pipeline: base → layers → squashfs → initramfs → ISO → PXE tree → disk image →
/// manifest. Everything is
/// written into a temporary directory beside the output, which replaces the output only when
/// every stage has succeeded, so a failed build never leaves a half-written output.
public struct Builder {
    public var profile: Profile
    /// The output directory (`out/NAME` by default).
    public var output: String
    public var cacheDirectory: String
    public var sourceDateEpoch: Int64
    public var refreshBase: Bool
    public var logger: Logger
    public var onEvent: @Sendable (BuildEvent) -> Void
    /// Finds the node runtime's binaries for profiles with a `cluster` section.
    public var agentBinaries: @Sendable () throws -> AgentBinaries = { try AgentBinaries.locate() }

    public init(profile: Profile, output: String, cacheDirectory: String, sourceDateEpoch: Int64,
                refreshBase: Bool = false, logger: Logger, onEvent: @escaping @Sendable (BuildEvent) -> Void = { _ in }) {
        self.profile = profile
        self.output = output
        self.cacheDirectory = cacheDirectory
        self.sourceDateEpoch = sourceDateEpoch
        self.refreshBase = refreshBase
        self.logger = logger
        self.onEvent = onEvent
    }

    /// Packages livebuild adds to every Debian base: the kernel, a static busybox for the live
    /// init, and systemd as the init of the live system.
    public static let requiredPackages = ["linux-image-amd64", "busybox-static", "systemd-sysv"]

    /// The default cache directory: `$LIVEBUILD_CACHE`, else `$XDG_CACHE_HOME/livebuild`, else
    /// `~/.cache/livebuild`.
    public static var defaultCacheDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["LIVEBUILD_CACHE"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/livebuild" }
        return (environment["HOME"] ?? "/root") + "/.cache/livebuild"
    }

    /// Runs every stage; returns the manifest that was written.
    @discardableResult
    public func build() async throws -> Manifest {
        let fileManager = FileManager.default
        let target = URL(fileURLWithPath: output).standardizedFileURL
        let parent = target.deletingLastPathComponent().path
        try fileManager.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let work = parent + "/.\(target.lastPathComponent).partial-\(getpid())"
        try? fileManager.removeItem(atPath: work)
        try fileManager.createDirectory(atPath: work + "/live", withIntermediateDirectories: true)
        var succeeded = false
        defer { if !succeeded { try? fileManager.removeItem(atPath: work) } }

        var timings = StageClock(onEvent: onEvent)

        // The node runtime first: a missing agent build or a bad key fails in a second, not
        // after the base.
        let runtime = try NodeRuntime.prepare(profile: profile, output: output, binaries: agentBinaries)
        if let runtime {
            onEvent(.note("cluster: \(runtime.key.generated ? "generated key" : "key") \(runtime.key.path) (fingerprint \(runtime.key.fingerprint))"))
            for warning in NodeRuntime.warnings(cluster: try NodeRuntime.section(of: profile)) {
                onEvent(.note(warning))
                logger.warning("\(warning)")
            }
        }

        // a. base
        timings.start("base")
        let base = try await baseLayers(scratch: work + "/scratch")
        timings.finish("base", detail: base.description)

        // b + c. layers streamed into the squashfs
        timings.start("rootfs")
        let users = try userDatabase(base: base.layers)
        var layers = try upperLayers(users: users)
        if let runtime {
            layers.append(Layer(name: "node runtime", source: InlineFilesSource(files: try runtime.files(), mtime: sourceDateEpoch),
                                directories: .weak, whiteouts: true))
        }
        let stack = LayerStack(layers: layers + base.layers, permissions: try permissionRules(users: users))
        let squashfsPath = work + "/live/filesystem.squashfs"
        let rootfs = try RootfsStage(stack: stack, options: squashfsOptions()).write(to: squashfsPath) { entries, bytes in
            onEvent(.progress(stage: "rootfs", entries: entries, bytes: bytes))
        }
        try? fileManager.removeItem(atPath: work + "/scratch")
        let squashfsSize = try FileSize.of(squashfsPath)
        let squashfsSHA256 = try FileDigest.sha256(path: squashfsPath)
        timings.finish("rootfs", detail: "\(rootfs.summary.inodeCount) inodes, \(squashfsSize) bytes, \(profile.squashfs.compression.rawValue)")

        // d. kernel and initramfs
        timings.start("initramfs")
        guard let kernelVersion = rootfs.files.kernelVersions.last,
              let kernel = rootfs.files.files["boot/vmlinuz-\(kernelVersion)"] else {
            throw LiveBuildError(code: .image, message: "the image has no kernel in /boot; add linux-image-amd64 to base.debian.packages (or to the tarball/OCI image)")
        }
        try Data(kernel).write(to: URL(fileURLWithPath: work + "/live/vmlinuz"))
        let mediumID = Self.mediumID(name: profile.name, squashfsSHA256: squashfsSHA256)
        let initramfs = try InitramfsBuilder(
            files: rootfs.files, kernelVersion: kernelVersion, mediumID: mediumID,
            squashfsSize: squashfsSize, squashfsSHA256: squashfsSHA256, mtime: sourceDateEpoch
        ).write(to: work + "/live/initrd.img")
        for missing in initramfs.modules.missing {
            onEvent(.note("initramfs: kernel \(kernelVersion) has no module \(missing); skipped"))
        }
        timings.finish("initramfs", detail: "kernel \(kernelVersion), \(initramfs.modules.load.count) modules")

        // The cluster key travels on media handed to a machine, outside the squashfs, as a
        // second initramfs (ClusterKeyImage); removed from the output once the media are written.
        var keyImage: String?
        if let runtime, profile.outputs.contains(.iso) || profile.outputs.contains(.disk) {
            let path = work + "/key-image/cluster-key.img"
            try fileManager.createDirectory(atPath: work + "/key-image", withIntermediateDirectories: true)
            try ClusterKeyImage.write(runtime.key, to: path, mtime: sourceDateEpoch)
            keyImage = path
        }
        defer { try? fileManager.removeItem(atPath: work + "/key-image") }

        // e. ISO
        var isoStage = IsoStage(profile: profile, mediumID: mediumID, squashfsSHA256: squashfsSHA256, sourceDateEpoch: sourceDateEpoch, logger: logger)
        isoStage.keyImage = keyImage
        var outputs: [String] = []
        if profile.outputs.contains(.iso) {
            timings.start("iso")
            let isoName = "\(profile.name).iso"
            try await isoStage.write(live: work + "/live", staging: work + "/iso-root", to: work + "/" + isoName, workDirectory: work + "/scratch")
            try? fileManager.removeItem(atPath: work + "/scratch")
            timings.finish("iso", detail: isoName)
            outputs.append(isoName)
        }

        // f. PXE tree
        if profile.outputs.contains(.pxe) {
            timings.start("pxe")
            let files = try await PxeStage(menu: try isoStage.bootMenu(), pxe: profile.pxe, squashfsSHA256: squashfsSHA256, sourceDateEpoch: sourceDateEpoch)
                .write(live: work + "/live", to: work + "/" + PxeLayout.directory, scratch: work + "/scratch")
            try? fileManager.removeItem(atPath: work + "/scratch")
            timings.finish("pxe", detail: "\(files.count) files")
            outputs += files.map { PxeLayout.directory + "/" + $0 }
        }

        // g. disk image
        if profile.outputs.contains(.disk) {
            timings.start("disk")
            let diskName = "\(profile.name).\(profile.disk.format.fileExtension)"
            var diskStage = DiskStage(menu: try isoStage.bootMenu(), disk: profile.disk, mediumID: mediumID, sourceDateEpoch: sourceDateEpoch, logger: logger)
            diskStage.keyImage = keyImage
            let layout = try await diskStage
                .write(live: work + "/live", to: work + "/" + diskName, scratch: work + "/scratch")
            try? fileManager.removeItem(atPath: work + "/scratch")
            timings.finish("disk", detail: "\(diskName), \(layout.size >> 20) MiB, \(layout.partitions.count) partitions")
            outputs.append(diskName)
        }

        try? fileManager.removeItem(atPath: work + "/key-image")

        // manifest
        var artefacts: [Manifest.Artefact] = []
        var digests: [String: String] = [:]
        for path in outputs + ["live/vmlinuz", "live/initrd.img", "live/filesystem.squashfs"] {
            let full = work + "/" + path
            // The PXE tree's live files are hard links to live/: one digest each.
            let live = path.hasPrefix(PxeLayout.directory + "/live/") && !path.hasSuffix(".sha256")
                ? String(path.dropFirst(PxeLayout.directory.count + 1)) : path
            let sha: String
            if live == "live/filesystem.squashfs" {
                sha = squashfsSHA256
            } else if let known = digests[live] {
                sha = known
            } else {
                sha = try FileDigest.sha256(path: full)
                digests[live] = sha
            }
            artefacts.append(.init(path: path, size: try FileSize.of(full), sha256: sha))
        }
        let packages = rootfs.files.files["var/lib/dpkg/status"].map { DpkgStatus.installed(String(decoding: $0, as: UTF8.self)) } ?? []
        let manifest = Manifest(
            livebuildVersion: LiveBuildVersion.current,
            profile: .init(name: profile.name, sha256: profileSHA256, sources: profile.sources),
            sourceDateEpoch: sourceDateEpoch, mediumID: mediumID, base: base.description, kernel: kernelVersion,
            initramfsModules: initramfs.modules.load.map(\.name), packages: packages,
            artefacts: artefacts, stages: timings.stages,
            cluster: try runtime.map { runtime in
                Manifest.Cluster(name: runtime.clusterName, keyFingerprint: runtime.key.fingerprint, keyFile: runtime.key.path,
                                 clusterdBytes: try FileSize.of(runtime.binaries.clusterd), clusterBytes: try FileSize.of(runtime.binaries.cluster))
            })
        try manifest.encoded().write(to: URL(fileURLWithPath: work + "/manifest.json"))

        // Replace the output only now.
        let old = parent + "/.\(target.lastPathComponent).old-\(getpid())"
        if fileManager.fileExists(atPath: target.path) { try fileManager.moveItem(atPath: target.path, toPath: old) }
        try fileManager.moveItem(atPath: work, toPath: target.path)
        try? fileManager.removeItem(atPath: old)
        succeeded = true
        return manifest
    }

    /// SHA-256 of the merged profile's canonical JSON.
    public var profileSHA256: String { FileDigest.sha256(Array(profile.canonicalJSON().utf8)) }

    /// The id the live init looks for on the medium: the profile name and the squashfs digest,
    /// so that a medium of another build is never taken for this one. Also the ISO volume label
    /// (32 characters at most, `A-Z 0-9 _ -`).
    public static func mediumID(name: String, squashfsSHA256: String) -> String {
        let cleaned = String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(22))
        return "\(cleaned)-\(squashfsSHA256.prefix(8).uppercased())"
    }

    func squashfsOptions() -> Squashfs.Options {
        let compression = Squashfs.Compression(rawValue: profile.squashfs.compression.rawValue) ?? .zstd
        return Squashfs.Options(
            compression: compression, level: profile.squashfs.level.map { UInt32($0) },
            blockSize: profile.squashfs.blockSize, modificationTime: sourceDateEpoch)
    }
}
