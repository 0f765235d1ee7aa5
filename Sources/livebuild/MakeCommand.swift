import ArgumentParser
import Foundation
import LiveBuild
import Profile

struct MakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make",
        abstract: "Build the images a profile describes.",
        discussion: "Writes NAME.iso, live/{vmlinuz,initrd.img,filesystem.squashfs} and manifest.json into the output directory. Outputs depend only on the inputs and SOURCE_DATE_EPOCH."
    )

    @Argument(help: "The profile (JSON).")
    var profile: String

    @Option(name: .shortAndLong, help: "Output directory (default: out/NAME).")
    var output: String?

    @Option(help: "Cache directory for base root filesystems (default: $LIVEBUILD_CACHE or ~/.cache/livebuild).")
    var cache: String?

    @Flag(help: "Rebuild the cached base even if one exists.")
    var refreshBase = false

    @Flag(help: "Print the manifest as JSON instead of a summary.")
    var json = false

    @OptionGroup var common: CommonOptions

    func run() async throws {
        do {
            let loaded = try ProfileLoader.load(path: profile)
            let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0) }
                ?? Int64(Date().timeIntervalSince1970)
            let reporter = ProgressReporter(interactive: isatty(2) != 0 && !json)
            let builder = Builder(
                profile: loaded, output: output ?? "out/\(loaded.name)",
                cacheDirectory: cache ?? Builder.defaultCacheDirectory, sourceDateEpoch: epoch,
                refreshBase: refreshBase, logger: common.logger("livebuild.make"),
                onEvent: { reporter.handle($0) })
            let manifest = try await builder.build()
            if json {
                FileHandle.standardOutput.write(try manifest.encoded())
            } else {
                reporter.summary(manifest, output: builder.output)
            }
        } catch {
            throw Failure.report(error)
        }
    }
}
