import Foundation
import HostTools
import Logging

/// Stage a: the base root filesystem as a tar stream. For Debian bases, mmdebstrap writes a tar
/// that is cached under a hash of its inputs, so a second build with the same base reuses it.
public struct BaseStage: Sendable {
    /// What mmdebstrap is asked for. `packages` keep their profile order so an unknown package
    /// can be named by its JSON path.
    public struct Debian: Sendable, Equatable {
        public var suite: String
        public var mirror: String
        public var components: [String]
        public var variant: String
        public var packages: [String]
        /// Packages livebuild adds for a live system (kernel, static busybox, systemd as init).
        public var required: [String]
        public var recommends: Bool
        public var architecture: String

        public init(suite: String, mirror: String, components: [String], variant: String, packages: [String],
                    required: [String], recommends: Bool, architecture: String) {
            self.suite = suite
            self.mirror = mirror
            self.components = components
            self.variant = variant
            self.packages = packages
            self.required = required
            self.recommends = recommends
            self.architecture = architecture
        }

        /// The cache key: a digest of everything that changes mmdebstrap's output.
        public var cacheKey: String {
            let description = [
                "livebuild-base-v1", "suite=\(suite)", "mirror=\(mirror)",
                "components=\(components.joined(separator: ","))", "variant=\(variant)",
                "packages=\(Set(packages + required).sorted().joined(separator: ","))",
                "recommends=\(recommends)", "architecture=\(architecture)",
            ].joined(separator: "\n")
            return FileDigest.sha256(Array(description.utf8))
        }
    }

    public var cacheDirectory: String
    public var logger: Logger

    public init(cacheDirectory: String, logger: Logger) {
        self.cacheDirectory = cacheDirectory
        self.logger = logger
    }

    public struct Result: Sendable {
        public var tarPath: String
        public var fromCache: Bool
    }

    /// Where the cached tar of `debian` lives (whether or not it exists yet).
    public func cachedTarPath(_ debian: Debian) -> String {
        "\(cacheDirectory)/base/\(debian.cacheKey).tar"
    }

    /// Base builds under way in this process, by cached tar path.
    static let underWay = SharedWork<Result>()

    /// Returns a cached base tar for `debian`, running mmdebstrap if there is none (or `refresh`).
    /// Builds of the same base at once in this process run mmdebstrap once; in other processes,
    /// each writes its own partial file and the last to finish replaces the entry atomically.
    public func debian(_ debian: Debian, sourceDateEpoch: Int64, refresh: Bool = false) async throws -> Result {
        let tar = cachedTarPath(debian)
        if !refresh, FileManager.default.fileExists(atPath: tar) {
            logger.info("base: reusing cached \(tar)")
            return Result(tarPath: tar, fromCache: true)
        }
        let stage = self
        let outcome = try await Self.underWay.run(tar) {
            try await stage.mmdebstrap(debian, to: tar, sourceDateEpoch: sourceDateEpoch)
        }
        if outcome.joined {
            logger.info("base: reusing \(tar), built meanwhile for another build in this process")
            return Result(tarPath: tar, fromCache: true)
        }
        return outcome.value
    }

    /// Runs mmdebstrap into a partial file beside `tar` and renames it into place.
    func mmdebstrap(_ debian: Debian, to tar: String, sourceDateEpoch: Int64) async throws -> Result {
        try FileManager.default.createDirectory(atPath: cacheDirectory + "/base", withIntermediateDirectories: true)
        let partial = "\(tar).partial-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: partial) }
        var arguments = [
            "--variant=\(debian.variant)",
            "--architectures=\(debian.architecture)",
            "--components=\(debian.components.joined(separator: ","))",
            "--format=tar",
        ]
        let packages = debian.required + debian.packages
        if !packages.isEmpty { arguments.append("--include=\(packages.joined(separator: ","))") }
        if debian.recommends { arguments.append("--aptopt=APT::Install-Recommends \"true\"") }
        arguments += [debian.suite, partial, debian.mirror]
        logger.info("base: mmdebstrap \(arguments.joined(separator: " "))")

        do {
            try await ToolRunner(logger: logger).withSourceDateEpoch(sourceDateEpoch).run("mmdebstrap", arguments)
        } catch {
            if error.reason.hasPrefix("not found") || error.reason.hasPrefix("could not run") {
                throw LiveBuildError(code: .tool, message: "cannot run mmdebstrap; install it with `apt-get install mmdebstrap`", underlying: error)
            }
            if let package = Self.unknownPackage(in: error.standardError) {
                let index = debian.packages.firstIndex(of: package)
                let path = index.map { "base.debian.packages[\($0)]" } ?? "base.debian (a package livebuild adds)"
                throw LiveBuildError(
                    code: .packages,
                    message: "\(path): the mirror \(debian.mirror) has no package '\(package)' in \(debian.suite) (\(debian.components.joined(separator: ","))); check its name with `apt-cache search`, or the suite and components")
            }
            let tail = error.standardError.split(separator: "\n").suffix(15).joined(separator: "\n")
            throw LiveBuildError(code: .tool, message: "mmdebstrap failed (\(error.reason)) for suite \(debian.suite) from \(debian.mirror):\n\(tail)")
        }
        // rename(2), not FileManager's move, which refuses an existing destination: another
        // process may have cached the same base meanwhile, and the two tars are equivalent.
        guard rename(partial, tar) == 0 else {
            let reason = String(cString: strerror(errno))
            throw LiveBuildError(code: .output, message: "cannot move the base tar into the cache at \(tar): \(reason); check the cache directory (--cache or $LIVEBUILD_CACHE)")
        }
        return Result(tarPath: tar, fromCache: false)
    }

    /// The package apt could not find, from mmdebstrap's error output.
    static func unknownPackage(in stderr: String) -> String? {
        for line in stderr.split(separator: "\n") {
            for marker in ["Unable to locate package ", "Package '", "has no installation candidate"] where line.contains(marker) {
                if marker == "Unable to locate package ", let range = line.range(of: marker) {
                    return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                }
                if marker == "Package '", let start = line.range(of: "Package '"),
                   let end = line[start.upperBound...].firstIndex(of: "'") {
                    return String(line[start.upperBound..<end])
                }
            }
        }
        return nil
    }
}
