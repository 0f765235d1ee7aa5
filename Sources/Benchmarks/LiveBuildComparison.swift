import Foundation
import LiveBuild
import Profile
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Debian's live-build (`lb config`, `lb build`) set up like a livebuild profile, for the build
/// benchmark: the same suite, mirror, archive areas, bootstrap variant, package list and squashfs
/// compressor, an `iso-hybrid` image booting with syslinux (BIOS) and GRUB (EFI), and none of the
/// extras livebuild does not add either (installer, memtest, firmware, security/updates/backports
/// archives, apt indices, deb-src lines). live-build still adds what it cannot do without: live-boot and
/// live-config in the image, an initramfs-tools initramfs, and the boot tools it installs into the
/// chroot for the binary stage.
///
/// lb keeps all its state in its working directory (`config/`, `chroot/`, `cache/`), so every
/// command runs there; it needs root.
public struct LiveBuildComparison: Sendable {
    /// What lb is asked to build; derived from a profile by ``init(debian:squashfs:directory:)``.
    public struct Settings: Sendable, Equatable, Codable {
        public var suite: String
        public var mirror: String
        public var components: [String]
        /// The mmdebstrap variant of the profile; passed to debootstrap when it knows it.
        public var variant: String
        /// Packages for `config/package-lists/*.list.chroot`: the profile's and the ones livebuild
        /// adds, less the kernel, which lb installs on its own (`--linux-flavours amd64`).
        public var packages: [String]
        public var recommends: Bool
        public var compression: String
        public var level: Int?

        public init(suite: String, mirror: String, components: [String], variant: String, packages: [String],
                    recommends: Bool, compression: String, level: Int?) {
            self.suite = suite
            self.mirror = mirror
            self.components = components
            self.variant = variant
            self.packages = packages
            self.recommends = recommends
            self.compression = compression
            self.level = level
        }
    }

    /// The kernel package lb installs itself (`--linux-packages linux-image --linux-flavours amd64`).
    public static let kernelPackage = "linux-image-amd64"
    /// The file the benchmark edits between the cold build and the rebuild, relative to
    /// `config/includes.chroot` (and to the image root).
    public static let editedFile = "etc/livebuild-bench-edit"

    public var settings: Settings
    /// lb's working directory; created by ``configure()``.
    public var directory: String

    public init(settings: Settings, directory: String) {
        self.settings = settings
        self.directory = directory
    }

    /// lb set up like `debian` (after `extends` merging) with `squashfs`'s compressor, and the
    /// packages livebuild adds to every Debian base.
    public init(debian: Profile.Debian, squashfs: Profile.SquashfsSettings, directory: String) {
        var packages: [String] = []
        for package in debian.packages + Builder.requiredPackages where package != Self.kernelPackage && !packages.contains(package) {
            packages.append(package)
        }
        self.init(
            settings: Settings(
                suite: debian.suite, mirror: debian.mirror, components: debian.components,
                variant: debian.variant.rawValue, packages: packages, recommends: debian.recommends,
                compression: squashfs.compression.rawValue, level: squashfs.level),
            directory: directory)
    }

    /// The `lb config` arguments for `settings`.
    public static func configArguments(_ settings: Settings) -> [String] {
        let mirror = settings.mirror
        var arguments = [
            "config",
            "--distribution", settings.suite,
            "--archive-areas", settings.components.joined(separator: " "),
            "--mirror-bootstrap", mirror, "--mirror-chroot", mirror, "--mirror-binary", mirror,
            "--parent-mirror-bootstrap", mirror, "--parent-mirror-chroot", mirror, "--parent-mirror-binary", mirror,
            "--security", "false", "--updates", "false", "--backports", "false",
            "--binary-images", "iso-hybrid",
            "--bootloaders", "syslinux grub-efi",
            "--apt-recommends", settings.recommends ? "true" : "false",
            "--apt-indices", "false",
            "--apt-source-archives", "false",
            "--debian-installer", "none",
            "--memtest", "none",
            "--firmware-binary", "false", "--firmware-chroot", "false",
            "--zsync", "false",
            "--chroot-squashfs-compression-type", settings.compression,
        ]
        if let level = settings.level {
            arguments += ["--chroot-squashfs-compression-level", String(level)]
        }
        if let variant = debootstrapVariant(settings.variant) {
            arguments += ["--debootstrap-options", "--variant=\(variant)"]
        }
        return arguments
    }

    /// debootstrap's name for an mmdebstrap variant; nil where debootstrap's default (required
    /// and important packages) is the closest.
    public static func debootstrapVariant(_ mmdebstrapVariant: String) -> String? {
        switch mmdebstrapVariant {
        case "minbase", "buildd": mmdebstrapVariant
        case "extract", "custom", "essential", "apt", "required": "minbase"
        default: nil
        }
    }

    /// lb's version (`20230502`); throws when lb is missing or this process is not root, so a
    /// caller can check before spending minutes on anything else.
    public static func version() async throws -> String {
        guard geteuid() == 0 else {
            throw LiveBuildError(code: .tool, message: "live-build needs root: run the benchmark as root, or without --live-build")
        }
        return try await capture(["--version"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `lb config` in a new ``directory`` and writes the package list and the edited file
    /// (generation 0). Returns lb's version.
    public func configure() async throws -> String {
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let version = try await Self.version()
        try await lb(Self.configArguments(settings), log: "config.log")
        let list = settings.packages.joined(separator: "\n") + "\n"
        try Data(list.utf8).write(to: URL(fileURLWithPath: directory + "/config/package-lists/livebuild.list.chroot"))
        try writeEditedFile(generation: 0)
        return version
    }

    /// Writes `config/includes.chroot/etc/livebuild-bench-edit` with a line naming `generation`.
    public func writeEditedFile(generation: Int) throws {
        let path = directory + "/config/includes.chroot/" + Self.editedFile
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(Self.editedContents(generation: generation).utf8).write(to: URL(fileURLWithPath: path))
    }

    /// The contents of the edited file in `generation`.
    public static func editedContents(generation: Int) -> String {
        "livebuild bench build: edit \(generation)\n"
    }

    /// Whether the last build's chroot holds the edited file of `generation` (lb leaves `chroot/`
    /// in place after a build).
    public func chrootHasEdit(generation: Int) -> Bool {
        FileManager.default.contents(atPath: directory + "/chroot/" + Self.editedFile)
            .map { String(decoding: $0, as: UTF8.self) == Self.editedContents(generation: generation) } ?? false
    }

    /// `lb build`, its output in `log` (a file name in ``directory``).
    public func build(log: String) async throws {
        try await lb(["build"], log: log)
    }

    /// Plain `lb clean`: removes the chroot and binary trees and keeps `cache/` (the packages and
    /// the bootstrap stage), as a user rebuilding after an edit does. It also removes every stage
    /// file, `config`'s included, so ``reconfigure(log:)`` must run before the next build.
    public func clean(log: String) async throws {
        try await lb(["clean"], log: log)
    }

    /// `lb config` without options: re-reads the existing `config/` tree unchanged and marks the
    /// config stage done again, which `lb build` requires after `lb clean` (an `auto/config`
    /// script does the same on its own).
    public func reconfigure(log: String) async throws {
        try await lb(["config"], log: log)
    }

    /// `lb clean --purge` in `directory` if lb was configured there: unmounts whatever a failed
    /// build left mounted in the chroot and removes everything lb made. Errors are ignored: this
    /// runs on the way out.
    public static func purge(directory: String) async {
        guard FileManager.default.fileExists(atPath: directory + "/config") else { return }
        try? await lb(["clean", "--purge"], in: directory, log: "purge.log")
    }

    /// The text of `log`, a file lb wrote in ``directory``.
    public func log(_ name: String) -> String {
        FileManager.default.contents(atPath: directory + "/" + name).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// lb's own stages (bootstrap, chroot, installer, binary, source) and their durations, from
    /// the timestamped lines of a build log. `lb build` runs each stage as `lb STAGE`, whose
    /// scripts log `lb STAGE_PART ...` (and borrow `chroot_*` helpers for mounts in every stage):
    /// a stage runs from its `lb STAGE` line to the next stage's, the last one to the log's last
    /// timestamp. Whole seconds.
    public static func stages(log: String) -> [Manifest.Stage] {
        let names: Set<Substring> = ["bootstrap", "chroot", "installer", "binary", "source"]
        var marks: [(stage: String, time: Int)] = []
        var last: Int?
        for line in log.split(separator: "\n") where line.hasPrefix("[") {
            guard let close = line.firstIndex(of: "]"), let time = secondsOfDay(line[line.index(after: line.startIndex)..<close]) else { continue }
            let rest = line[line.index(after: close)...].split(separator: " ")
            guard rest.count >= 2, rest[0] == "lb" else { continue }
            last = time
            if rest.count == 2, names.contains(rest[1]), marks.last?.stage != String(rest[1]) {
                marks.append((String(rest[1]), time))
            }
        }
        return marks.indices.map { index in
            let end = index + 1 < marks.count ? marks[index + 1].time : (last ?? marks[index].time)
            var seconds = end - marks[index].time
            if seconds < 0 { seconds += 86_400 }  // past midnight
            return Manifest.Stage(name: marks[index].stage, seconds: Double(seconds), detail: "from lb's log")
        }
    }

    /// `2026-11-24 16:26:20` → seconds since midnight.
    static func secondsOfDay(_ stamp: Substring) -> Int? {
        let parts = stamp.split(separator: " ")
        guard parts.count == 2 else { return nil }
        let clock = parts[1].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        return clock[0] * 3600 + clock[1] * 60 + clock[2]
    }

    /// The ISO of the last build (`live-image-amd64.hybrid.iso` for amd64) and its size.
    public func iso() throws -> (path: String, bytes: UInt64) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard let name = names.filter({ $0.hasSuffix(".iso") }).sorted().first else {
            throw LiveBuildError(code: .tool, message: "lb build left no .iso in \(directory); see build logs there")
        }
        let path = directory + "/" + name
        return (path, try FileSize.of(path))
    }

    /// Runs `lb ARGUMENTS` in ``directory`` with its output (both streams) in `log`; throws with
    /// the log's tail when lb fails.
    func lb(_ arguments: [String], log: String) async throws {
        try await Self.lb(arguments, in: directory, log: log)
    }

    static func lb(_ arguments: [String], in directory: String, log: String) async throws {
        let logPath = directory + "/" + log
        let descriptor = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw LiveBuildError(code: .output, message: "cannot write \(logPath): \(String(cString: strerror(errno)))")
        }
        let result: ExecutionResult<Void, FileDescriptorOutput, CombinedErrorOutput>
        do {
            result = try await Subprocess.run(
                .name("lb"), arguments: Arguments(arguments), environment: .inherit,
                workingDirectory: FilePath(directory),
                output: .fileDescriptor(FileDescriptor(rawValue: descriptor), closeAfterSpawningProcess: true),
                error: .combinedWithOutput)
        } catch {
            throw LiveBuildError(code: .tool, message: "cannot run lb; install Debian's live-build with `apt-get install live-build`", underlying: error)
        }
        guard result.terminationStatus.isSuccess else {
            let text = FileManager.default.contents(atPath: logPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let tail = text.split(separator: "\n").suffix(15).joined(separator: "\n")
            throw LiveBuildError(code: .tool, message: "lb \(arguments.first ?? "") failed (\(result.terminationStatus)); log \(logPath):\n\(tail)")
        }
    }

    /// Runs `lb ARGUMENTS` and returns its standard output.
    static func capture(_ arguments: [String]) async throws -> String {
        do {
            let result = try await Subprocess.run(.name("lb"), arguments: Arguments(arguments),
                                                  output: .string(limit: 1 << 16), error: .discarded)
            return result.standardOutput
        } catch {
            throw LiveBuildError(code: .tool, message: "cannot run lb; install Debian's live-build with `apt-get install live-build`", underlying: error)
        }
    }
}
