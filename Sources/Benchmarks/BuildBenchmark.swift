import Foundation
import LiveBuild
import Logging
import Profile

/// The whole build, in one run: livebuild cold (empty cache, so mmdebstrap runs) and rebuilt
/// after editing one overlay file (same cache), and, when asked, Debian's live-build set up alike
/// (``LiveBuildComparison``) doing the same: cold `lb build`, then one file edited in
/// `config/includes.chroot`, plain `lb clean` (package and bootstrap caches kept), `lb config`
/// (which `lb build` needs after a clean) and `lb build`.
///
/// livebuild builds a temporary profile that `extends` the given one, adds one overlay directory
/// holding the edited file and, with ``suite``, sets `base.debian.suite`. Everything is made
/// under ``scratch``, which is removed at the end.
public struct BuildBenchmark: Sendable {
    /// The profile to build; its base must be Debian.
    public var profilePath: String
    /// Build this suite on both sides instead of the profile's (e.g. `bookworm` where the host's
    /// live-build cannot build the profile's suite).
    public var suite: String?
    /// Measure Debian's live-build too.
    public var liveBuild: Bool
    /// A directory for everything the benchmark makes; created, and removed at the end.
    public var scratch: String
    /// Copy the build logs (lb's logs, livebuild's manifests) here before removing ``scratch``.
    public var keepLogs: String?
    public var sourceDateEpoch: Int64
    public var logger: Logger
    /// One line per step, for the command line to show.
    public var onProgress: @Sendable (String) -> Void

    public init(profilePath: String, suite: String? = nil, liveBuild: Bool, scratch: String, keepLogs: String? = nil,
                sourceDateEpoch: Int64, logger: Logger, onProgress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.profilePath = profilePath
        self.suite = suite
        self.liveBuild = liveBuild
        self.scratch = scratch
        self.keepLogs = keepLogs
        self.sourceDateEpoch = sourceDateEpoch
        self.logger = logger
        self.onProgress = onProgress
    }

    /// One build: its wall time, the ISO it made and where the time went.
    public struct Figures: Sendable, Codable, Equatable {
        public var seconds: Double
        public var isoBytes: UInt64
        /// livebuild: the manifest's stages. live-build: `lb clean`, `lb config`, `lb build`, and lb's own
        /// stages (bootstrap, chroot, installer, binary, source) read from its log's timestamps
        /// (whole seconds).
        public var stages: [Manifest.Stage]
    }

    /// One tool's cold build and rebuild.
    public struct Side: Sendable, Codable, Equatable {
        public var tool: String
        public var version: String
        public var cold: Figures
        public var rebuild: Figures
    }

    public struct Report: Sendable, Codable, Equatable {
        /// When the run started, ISO 8601 UTC.
        public var date: String
        public var machine: String
        /// The 1-minute load average when the run started and when it ended: the figures are
        /// only as steady as the machine was quiet.
        public var loadAverage: [Double]
        public var profile: String
        public var suite: String
        /// The packages asked for on top of the variant (livebuild's list; lb gets the same less
        /// the kernel, which it installs on its own).
        public var packages: [String]
        public var livebuild: Side
        public var liveBuild: Side?
        /// livebuild / live-build wall time.
        public var coldRatio: Double?
        public var rebuildRatio: Double?
        /// What differs between the sides, and anything odd seen during the run.
        public var notes: [String]
    }

    /// The file the benchmark edits, relative to the extra overlay (and the image root).
    public static let editedFile = LiveBuildComparison.editedFile

    /// Runs every measurement, then removes ``scratch`` (also when a build fails).
    public func run() async throws -> Report {
        let fileManager = FileManager.default
        try? fileManager.removeItem(atPath: scratch)
        try fileManager.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        do {
            let report = try await measure()
            await cleanUp()
            return report
        } catch {
            await cleanUp()
            throw error
        }
    }

    var liveBuildDirectory: String { scratch + "/live-build" }
    var overlayDirectory: String { scratch + "/edit-overlay" }

    func measure() async throws -> Report {
        let date = Self.timestamp(Date())
        let loadAtStart = Self.loadAverage()
        let original = try ProfileLoader.load(path: profilePath)
        guard case .debian(let originalDebian) = original.base else {
            throw LiveBuildError(code: .profile, message: "base: the build benchmark needs a Debian base (base.debian), not \(original.base.kind)")
        }
        if liveBuild {
            _ = try await LiveBuildComparison.version()  // fail now, not after livebuild's builds
        }
        let suite = suite ?? originalDebian.suite
        var notes: [String] = []
        if suite != originalDebian.suite {
            notes.append("suite \(suite) on both sides instead of the profile's \(originalDebian.suite)")
        }

        // The temporary profile: the original plus one overlay directory with the edited file.
        try writeEditedFile(generation: 0)
        let profilePath = scratch + "/bench.json"
        try writeProfile(extending: original, suite: suite == originalDebian.suite ? nil : suite, to: profilePath)
        let profile = try ProfileLoader.load(path: profilePath)
        guard case .debian(let debian) = profile.base else {
            throw LiveBuildError(code: .profile, message: "base: the build benchmark needs a Debian base (base.debian)")
        }

        // livebuild: cold with an empty cache, then the edit and a rebuild with the same cache.
        let cache = scratch + "/livebuild/cache", output = scratch + "/livebuild/out"
        onProgress("livebuild: cold build of \(original.name) (\(suite)), empty cache \(cache)")
        let (cold, coldSquashfs) = try await buildWithBuilder(profile: profile, cache: cache, output: output, manifestCopy: "livebuild-cold-manifest.json")
        if let base = cold.stages.first(where: { $0.name == "base" }), base.detail.contains("cached") {
            notes.append("livebuild cold: the base came from a cache (\(base.detail))")
        }
        try writeEditedFile(generation: 1)
        onProgress("livebuild: rebuild after editing \(overlayDirectory)/\(Self.editedFile)")
        let rebuiltProfile = try ProfileLoader.load(path: profilePath)
        let (rebuild, rebuiltSquashfs) = try await buildWithBuilder(profile: rebuiltProfile, cache: cache, output: output, manifestCopy: "livebuild-rebuild-manifest.json")
        if coldSquashfs == rebuiltSquashfs {
            notes.append("livebuild rebuild: the squashfs is the same as the cold build's, so the edit did not reach the image")
        }
        if let base = rebuild.stages.first(where: { $0.name == "base" }), !base.detail.contains("cache") {
            notes.append("livebuild rebuild: the base did not come from the cache (\(base.detail))")
        }
        let ours = Side(tool: "livebuild", version: LiveBuildVersion.current, cold: cold, rebuild: rebuild)

        var theirs: Side?
        if liveBuild {
            theirs = try await measureLiveBuild(debian: debian, squashfs: profile.squashfs, notes: &notes)
            notes += [
                "live-build adds live-boot, live-config and an initramfs-tools initramfs to the image, and installs its boot tools (syslinux, GRUB, xorriso) into the chroot for the binary stage; livebuild writes its own busybox initramfs and ISO on the host",
                "live-build's rebuild is `lb clean` + `lb config` (no options; `lb clean` drops the config stage) + `lb build`, with its package cache and cached bootstrap stage; livebuild's reuses the cached mmdebstrap tar",
            ]
        }
        return Report(
            date: date, machine: Self.machineDescription(liveBuildVersion: theirs?.version),
            loadAverage: [loadAtStart, Self.loadAverage()].compactMap { $0 }, profile: original.sourcePath,
            suite: suite, packages: debian.packages + Builder.requiredPackages.filter { !debian.packages.contains($0) },
            livebuild: ours, liveBuild: theirs,
            coldRatio: theirs.map { ours.cold.seconds / $0.cold.seconds },
            rebuildRatio: theirs.map { ours.rebuild.seconds / $0.rebuild.seconds },
            notes: notes)
    }

    /// One `Builder.build()`: its figures and the squashfs digest (to tell that an edit got in).
    func buildWithBuilder(profile: Profile, cache: String, output: String, manifestCopy: String) async throws -> (Figures, String?) {
        let builder = Builder(profile: profile, output: output, cacheDirectory: cache, sourceDateEpoch: sourceDateEpoch,
                              logger: logger)
        let start = ContinuousClock.now
        let manifest = try await builder.build()
        let seconds = Self.seconds(since: start)
        try? FileManager.default.copyItem(atPath: output + "/manifest.json", toPath: scratch + "/" + manifestCopy)
        let iso = manifest.artefacts.first { $0.path.hasSuffix(".iso") }
        onProgress("livebuild: \(Self.rounded(seconds)) s, ISO \(iso?.size ?? 0) bytes")
        let squashfs = manifest.artefacts.first { $0.path.hasSuffix(".squashfs") }?.sha256
        return (Figures(seconds: seconds, isoBytes: iso?.size ?? 0, stages: manifest.stages), squashfs)
    }

    func measureLiveBuild(debian: Profile.Debian, squashfs: Profile.SquashfsSettings, notes: inout [String]) async throws -> Side {
        let lb = LiveBuildComparison(debian: debian, squashfs: squashfs, directory: liveBuildDirectory)
        onProgress("live-build: lb config in \(lb.directory)")
        let version = try await lb.configure()
        if LiveBuildComparison.debootstrapVariant(lb.settings.variant) != lb.settings.variant {
            notes.append("live-build bootstraps with debootstrap variant \(LiveBuildComparison.debootstrapVariant(lb.settings.variant) ?? "default (required + important)") for mmdebstrap's \(lb.settings.variant)")
        }

        onProgress("live-build: cold lb build")
        var start = ContinuousClock.now
        try await lb.build(log: "build-cold.log")
        let coldSeconds = Self.seconds(since: start)
        let coldISO = try lb.iso()
        onProgress("live-build: \(Self.rounded(coldSeconds)) s, ISO \(coldISO.bytes) bytes")
        let coldStages = [Manifest.Stage(name: "lb build", seconds: Self.rounded(coldSeconds), detail: "")]
            + LiveBuildComparison.stages(log: lb.log("build-cold.log"))

        try lb.writeEditedFile(generation: 1)
        onProgress("live-build: lb clean, lb config, lb build after editing config/includes.chroot/\(LiveBuildComparison.editedFile)")
        start = ContinuousClock.now
        try await lb.clean(log: "clean.log")
        let cleanSeconds = Self.seconds(since: start)
        try await lb.reconfigure(log: "reconfig.log")
        let configSeconds = Self.seconds(since: start) - cleanSeconds
        try await lb.build(log: "build-rebuild.log")
        let rebuildSeconds = Self.seconds(since: start)
        let rebuildISO = try lb.iso()
        onProgress("live-build: \(Self.rounded(rebuildSeconds)) s, ISO \(rebuildISO.bytes) bytes")
        if !lb.chrootHasEdit(generation: 1) {
            notes.append("live-build rebuild: the chroot does not hold the edited file")
        }
        let rebuildStages = [
            Manifest.Stage(name: "lb clean", seconds: Self.rounded(cleanSeconds), detail: ""),
            Manifest.Stage(name: "lb config", seconds: Self.rounded(configSeconds), detail: ""),
            Manifest.Stage(name: "lb build", seconds: Self.rounded(rebuildSeconds - cleanSeconds - configSeconds), detail: ""),
        ] + LiveBuildComparison.stages(log: lb.log("build-rebuild.log"))

        return Side(tool: "live-build", version: version,
                    cold: Figures(seconds: coldSeconds, isoBytes: coldISO.bytes, stages: coldStages),
                    rebuild: Figures(seconds: rebuildSeconds, isoBytes: rebuildISO.bytes, stages: rebuildStages))
    }

    /// Copies the logs out if asked, purges lb (which unmounts what a failed build left mounted in
    /// its chroot) and removes ``scratch`` unless something is still mounted under it.
    func cleanUp() async {
        let fileManager = FileManager.default
        if let keepLogs {
            try? fileManager.createDirectory(atPath: keepLogs, withIntermediateDirectories: true)
            for directory in [scratch, liveBuildDirectory] {
                for name in (try? fileManager.contentsOfDirectory(atPath: directory)) ?? []
                where name.hasSuffix(".log") || name.hasSuffix(".json") {
                    try? fileManager.removeItem(atPath: keepLogs + "/" + name)
                    try? fileManager.copyItem(atPath: directory + "/" + name, toPath: keepLogs + "/" + name)
                }
            }
        }
        await LiveBuildComparison.purge(directory: liveBuildDirectory)
        let mounts = Self.mountPoints(under: scratch)
        if mounts.isEmpty {
            try? fileManager.removeItem(atPath: scratch)
        } else {
            onProgress("left \(scratch) in place: still mounted under it: \(mounts.joined(separator: ", "))")
        }
    }

    func writeEditedFile(generation: Int) throws {
        let path = overlayDirectory + "/" + Self.editedFile
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(LiveBuildComparison.editedContents(generation: generation).utf8).write(to: URL(fileURLWithPath: path))
    }

    /// The temporary profile: `extends` the original, appends the edit overlay, sets the suite.
    func writeProfile(extending original: Profile, suite: String?, to path: String) throws {
        struct Child: Encodable {
            struct Debian: Encodable { var suite: String }
            struct Base: Encodable { var debian: Debian }
            var name: String
            var extends: String
            var overlays: [String]
            var base: Base?
        }
        let child = Child(name: original.name, extends: original.sourcePath, overlays: [overlayDirectory],
                          base: suite.map { Child.Base(debian: .init(suite: $0)) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(child).write(to: URL(fileURLWithPath: path))
    }

    /// Mount points at or below `directory`, from /proc/self/mounts.
    static func mountPoints(under directory: String) -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return [] }
        let prefix = URL(fileURLWithPath: directory).standardizedFileURL.path
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { return nil }
            let point = String(fields[1]).replacingOccurrences(of: "\\040", with: " ")
            return point == prefix || point.hasPrefix(prefix + "/") ? point : nil
        }
    }

    /// "2 cores, Debian GNU/Linux 12 (bookworm), kernel 6.x, live-build 20230502".
    static func machineDescription(liveBuildVersion: String?) -> String {
        var parts = ["\(ProcessInfo.processInfo.activeProcessorCount) cores"]
        if let release = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
           let line = release.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") }) {
            parts.append(line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
        var name = utsname()
        uname(&name)
        let kernel = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        parts.append("kernel \(kernel)")
        if let liveBuildVersion { parts.append("live-build \(liveBuildVersion)") }
        return parts.joined(separator: ", ")
    }

    /// The 1-minute load average from /proc/loadavg.
    static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).seconds
    }

    static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
}
