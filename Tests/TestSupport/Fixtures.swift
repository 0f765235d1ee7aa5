import Foundation
import LiveBuild
import Logging
import Profile

/// Images built from the repository's profiles, once per test process and shared by every test
/// that needs one (interop and VM tiers). Builds go to `.build/fixtures/NAME` with a fixed
/// SOURCE_DATE_EPOCH; the base cache is `$LIVEBUILD_CACHE` or `.build/livebuild-cache`.
public actor Fixtures {
    public static let shared = Fixtures()

    /// The epoch every fixture is built with.
    public static let sourceDateEpoch: Int64 = 1_700_000_000

    public struct Image: Sendable {
        public var directory: String
        public var manifest: Manifest
        public var iso: String { directory + "/" + manifest.profile.name + ".iso" }
        public var squashfs: String { directory + "/live/filesystem.squashfs" }
        public var initramfs: String { directory + "/live/initrd.img" }
        public var kernel: String { directory + "/live/vmlinuz" }
        /// The disk image (`NAME.img` or `NAME.qcow2`), when the profile has a disk output.
        public var disk: String? {
            let name = manifest.profile.name
            return manifest.artefacts.first { $0.path == name + ".img" || $0.path == name + ".qcow2" }.map { directory + "/" + $0.path }
        }
    }

    private var builds: [String: Task<Image, any Error>] = [:]

    /// The image of `profiles/NAME.json` (as ``profilePath(_:)`` gives it to the tests), building
    /// it on first use.
    public func image(_ name: String) async throws -> Image {
        if let task = builds[name] { return try await task.value }
        let task = Task { try await Self.reusableBuild(profilePath: try Self.profilePath(name), into: Repository.root + "/.build/fixtures/\(name)") }
        builds[name] = task
        return try await task.value
    }

    /// What the tests build for `profiles/NAME.json`: that profile with a 1 s boot menu
    /// (`boot.timeout`), written to `.build/fixtures/NAME.json`. Every VM test boots these
    /// images and none picks another entry: the default profile's 3 s cost each boot 2 s more.
    /// Not 0: GRUB would then boot without drawing the menu, which the VM tests read on the
    /// console. The menus' timeouts themselves are checked in BootMenuTests.
    public static func profilePath(_ name: String) throws -> String {
        let directory = Repository.root + "/.build/fixtures"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/\(name).json"
        let profile = #"{"extends": "\#(Repository.root)/profiles/\#(name).json", "name": "\#(name)", "boot": {"timeout": 1}}"#
        try Data((profile + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }

    /// The default profile built with another cluster key (a node of a different cluster):
    /// `.build/fixtures/intruder`, with its own key file beside it.
    public func intruderImage() async throws -> Image {
        let name = "intruder"
        if let task = builds[name] { return try await task.value }
        let task = Task { () throws -> Image in
            let directory = Repository.root + "/.build/fixtures"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let keyPath = directory + "/intruder.cluster.key"
            if !FileManager.default.fileExists(atPath: keyPath) {
                _ = try ClusterKeyFile.readOrGenerate(keyPath)
            }
            let profilePath = directory + "/intruder.json"
            let profile = #"{"extends": "\#(try Self.profilePath("cluster"))", "name": "intruder", "cluster": {"key": "intruder.cluster.key"}, "outputs": ["iso"], "disk": null}"#
            try Data((profile + "\n").utf8).write(to: URL(fileURLWithPath: profilePath))
            return try await Self.reusableBuild(profilePath: profilePath, into: directory + "/intruder")
        }
        builds[name] = task
        return try await task.value
    }

    /// The default profile with a per-node root (`pxe.nodes`), ISO only: a head booted from it
    /// boots the virtual cluster's node3 with its squashfs over NFS, other diskless nodes with
    /// theirs over HTTP into RAM. `.build/fixtures/nfsroot`, with the
    /// default profile's cluster key (its nodes join the same cluster). Root jobs may move
    /// between its nodes too (`cluster.trust.minimumPeerUID` 0): most migration checks move
    /// root's, one an ordinary user's.
    public func nfsRootImage() async throws -> Image {
        let name = "nfsroot"
        if let task = builds[name] { return try await task.value }
        let task = Task { () throws -> Image in
            let directory = Repository.root + "/.build/fixtures"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let profilePath = directory + "/nfsroot.json"
            // Per node: the virtual cluster's node3 (MAC 52:54:00:4c:42:03) over NFS, the rest over HTTP.
            let profile = #"{"extends": "\#(try Self.profilePath("cluster"))", "name": "nfsroot", "outputs": ["iso"], "disk": null, "pxe": {"root": "http", "nodes": [{"mac": "52:54:00:4c:42:03", "root": "nfs"}]}, "cluster": {"trust": {"minimumPeerUID": 0}}}"#
            try Data((profile + "\n").utf8).write(to: URL(fileURLWithPath: profilePath))
            return try await Self.reusableBuild(profilePath: profilePath, into: directory + "/nfsroot")
        }
        builds[name] = task
        return try await task.value
    }

    /// `make check` runs the tiers as two test processes of one build and gives both the same
    /// `LIVEBUILD_FIXTURE_RUN`: a shared fixture the first process built in that run (with the
    /// same binaries, from the same profile) is reused by the second instead of built again.
    public static var fixtureRun: String? {
        ProcessInfo.processInfo.environment["LIVEBUILD_FIXTURE_RUN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Builds the profile at `profilePath` into `output`, or reuses what this run's first test
    /// process built there (``fixtureRun``): its stamp names the run, its manifest the merged
    /// profile's digest, and every artefact of the manifest is present with its size.
    static func reusableBuild(profilePath: String, into output: String) async throws -> Image {
        let builder = try builder(profilePath: profilePath, output: output)
        guard let run = fixtureRun else { return Image(directory: output, manifest: try await builder.build()) }
        let stampPath = output + "/.fixture-run"
        let fileManager = FileManager.default
        if (try? String(contentsOfFile: stampPath, encoding: .utf8)) == run + "\n",
           let data = fileManager.contents(atPath: output + "/manifest.json"),
           let manifest = try? JSONDecoder().decode(Manifest.self, from: data),
           manifest.profile.sha256 == builder.profileSHA256,
           manifest.artefacts.allSatisfy({ (try? fileManager.attributesOfItem(atPath: output + "/" + $0.path))?[.size] as? UInt64 == $0.size }) {
            Logger(label: "livebuild.tests").info("fixture \(output): reusing this run's build (LIVEBUILD_FIXTURE_RUN=\(run))")
            return Image(directory: output, manifest: manifest)
        }
        let image = Image(directory: output, manifest: try await builder.build())
        try Data((run + "\n").utf8).write(to: URL(fileURLWithPath: stampPath))
        return image
    }

    /// Builds `profiles/NAME.json` (``profilePath(_:)``) into `output` (used by tests that need a
    /// second, independent build).
    public static func build(_ name: String, into output: String) async throws -> Image {
        try await build(profilePath: try profilePath(name), into: output)
    }

    /// Builds the profile at `profilePath` into `output`.
    public static func build(profilePath: String, into output: String) async throws -> Image {
        Image(directory: output, manifest: try await builder(profilePath: profilePath, output: output).build())
    }

    static func builder(profilePath: String, output: String) throws -> Builder {
        Builder(
            profile: try ProfileLoader.load(path: profilePath), output: output, cacheDirectory: cacheDirectory,
            sourceDateEpoch: sourceDateEpoch, logger: Logger(label: "livebuild.tests"))
    }

    /// The cached base tar of `profiles/NAME.json` (a Debian base), built by `image(NAME)`.
    public func baseTar(_ name: String) async throws -> String {
        _ = try await image(name)
        let profile = try ProfileLoader.load(path: Repository.root + "/profiles/\(name).json")
        guard case .debian(let debian) = profile.base else {
            throw Tool.Failure(description: "profiles/\(name).json has no Debian base")
        }
        return BaseStage(cacheDirectory: Self.cacheDirectory, logger: Logger(label: "livebuild.tests"))
            .cachedTarPath(Builder.baseRequest(for: debian))
    }

    public static var cacheDirectory: String {
        ProcessInfo.processInfo.environment["LIVEBUILD_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Repository.root + "/.build/livebuild-cache"
    }
}

/// Paths in the repository.
public enum Repository {
    /// The repository root (this file is Tests/TestSupport/Fixtures.swift).
    public static let root: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()
}
