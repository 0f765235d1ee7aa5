import ArgumentParser
import Foundation
import LiveBuild
import Profile

extension BenchCommand {
    struct DiskBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "disk",
            abstract: "The disk image stage beside the ISO stage of the same build.",
            discussion: """
                Builds the profile --runs times into a scratch directory (the Debian base comes from \
                the cache after the first) with outputs iso and disk, and reports each run's ISO \
                stage (grub-mkimage, xorriso) and disk stage (libguestfs: appliance start, \
                partitions, filesystems, squashfs copy, boot loaders) from the manifest, with the \
                median ratio disk / ISO. Needs root (mmdebstrap); works under $TMPDIR (default \
                /var/tmp) and removes what it made.
                """
        )

        @Argument(help: "The profile (JSON).")
        var profile: String

        @Option(help: "Builds to time.")
        var runs = 3

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var common: CommonOptions

        struct Run: Codable {
            var isoSeconds: Double
            var diskSeconds: Double
            var isoBytes: UInt64
            var diskBytes: UInt64
        }

        struct Report: Codable {
            var profile: String
            var diskFormat: String
            var runs: [Run]
            var medianRatio: Double
        }

        func run() async throws {
            do {
                guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
                var loaded = try ProfileLoader.load(path: profile)
                for output in [Profile.Output.iso, .disk] where !loaded.outputs.contains(output) { loaded.outputs.append(output) }
                let temporary = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/tmp"
                let scratch = temporary + "/livebuild-bench-disk-\(getpid())"
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                var report = Report(profile: loaded.name, diskFormat: loaded.disk.format.rawValue, runs: [], medianRatio: 0)
                for index in 1...runs {
                    FileHandle.standardError.write(Data("bench: build \(index) of \(runs)\n".utf8))
                    let manifest = try await Builder(
                        profile: loaded, output: scratch + "/out", cacheDirectory: Builder.defaultCacheDirectory,
                        sourceDateEpoch: 1_700_000_000, logger: common.logger("livebuild.bench")
                    ).build()
                    func seconds(_ stage: String) -> Double { manifest.stages.first { $0.name == stage }?.seconds ?? 0 }
                    func bytes(_ suffix: String) -> UInt64 { manifest.artefacts.first { $0.path == loaded.name + suffix }?.size ?? 0 }
                    report.runs.append(Run(isoSeconds: seconds("iso"), diskSeconds: seconds("disk"),
                                           isoBytes: bytes(".iso"), diskBytes: bytes("." + loaded.disk.format.fileExtension)))
                }
                let ratios = report.runs.map { $0.diskSeconds / max($0.isoSeconds, 0.001) }.sorted()
                report.medianRatio = ratios[ratios.count / 2]
                if json {
                    try BenchCommand.printJSON(report)
                    return
                }
                print("disk image (\(report.diskFormat)) beside ISO, profile \(report.profile); seconds per stage")
                print("  run  ISO stage  disk stage  ISO size    disk size (file)")
                for (index, run) in report.runs.enumerated() {
                    print("  \(index + 1)    \(BenchCommand.fixed(run.isoSeconds, places: 1).padding(toLength: 9, withPad: " ", startingAt: 0))  \(BenchCommand.fixed(run.diskSeconds, places: 1).padding(toLength: 10, withPad: " ", startingAt: 0))  \(BenchCommand.fixed(Double(run.isoBytes) / 1_048_576, places: 1)) MiB   \(BenchCommand.fixed(Double(run.diskBytes) / 1_048_576, places: 1)) MiB")
                }
                print("  disk / ISO stage time (median) = \(BenchCommand.fixed(report.medianRatio, places: 1))")
            } catch {
                throw Failure.report(error)
            }
        }
    }
}
