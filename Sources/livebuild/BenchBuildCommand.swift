import ArgumentParser
import Benchmarks
import Foundation
import LiveBuild

extension BenchCommand {
    struct BuildBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build",
            abstract: "The whole build, cold and after editing one file, beside Debian's live-build.",
            discussion: """
                livebuild builds the profile with an empty cache (mmdebstrap runs), then again with the \
                same cache after one file in an extra overlay is edited. With --live-build, Debian's \
                live-build is set up alike (suite, mirror, packages, variant, squashfs compressor, \
                iso-hybrid with syslinux and GRUB EFI) and does the same: cold `lb build`, one file \
                edited in config/includes.chroot, `lb clean`, `lb config`, `lb build`. Needs root and the mirror; \
                works under $TMPDIR (default /var/tmp) and removes what it made. Takes minutes.
                """
        )

        @Argument(help: "The profile (JSON); its base must be Debian.")
        var profile: String

        @Flag(name: .customLong("live-build"), help: "Measure Debian's live-build (lb) too.")
        var liveBuild = false

        @Option(help: "Build this suite on both sides instead of the profile's (e.g. bookworm).")
        var suite: String?

        @Option(help: "Copy the build logs and manifests into this directory.")
        var logs: String?

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var common: CommonOptions

        func run() async throws {
            do {
                let temporary = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/tmp"
                let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0) }
                    ?? Int64(Date().timeIntervalSince1970)
                let benchmark = BuildBenchmark(
                    profilePath: profile, suite: suite, liveBuild: liveBuild,
                    scratch: temporary + "/livebuild-bench-build-\(getpid())", keepLogs: logs,
                    sourceDateEpoch: epoch, logger: common.logger("livebuild.bench"),
                    onProgress: { line in FileHandle.standardError.write(Data("bench: \(line)\n".utf8)) })
                let report = try await benchmark.run()
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    FileHandle.standardOutput.write(try encoder.encode(report))
                    print()
                } else {
                    print(Self.table(report), terminator: "")
                }
            } catch {
                throw Failure.report(error)
            }
        }

        /// The plain-text report: one row per measurement, a column per tool, the ratio last.
        static func table(_ report: BuildBenchmark.Report) -> String {
            let ours = report.livebuild, theirs = report.liveBuild
            var rows: [[String]] = [["", "livebuild", theirs == nil ? "" : "live-build", theirs == nil ? "" : "ratio"]]
            func row(_ label: String, _ value: (BuildBenchmark.Side) -> Double, _ show: (Double) -> String) {
                let mine = value(ours)
                if let theirs {
                    rows.append([label, show(mine), show(value(theirs)), fixed(mine / value(theirs), places: 2)])
                } else {
                    rows.append([label, show(mine), "", ""])
                }
            }
            row("cold build", { $0.cold.seconds }, duration)
            row("rebuild after editing 1 file", { $0.rebuild.seconds }, duration)
            row("ISO size, cold", { Double($0.cold.isoBytes) }, megabytes)
            row("ISO size, rebuild", { Double($0.rebuild.isoBytes) }, megabytes)

            let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
            var text = "build benchmark: \(report.profile), suite \(report.suite), \(report.date)\n"
            text += "machine: \(report.machine)\n"
            if !report.loadAverage.isEmpty {
                text += "load average (1 min) at start and end: \(report.loadAverage.map { fixed($0, places: 2) }.joined(separator: ", "))\n"
            }
            text += "packages: \(report.packages.joined(separator: " "))\n\n"
            for cells in rows {
                var line = cells[0].padding(toLength: widths[0], withPad: " ", startingAt: 0)
                for column in 1..<4 where widths[column] > 0 {
                    line += "  " + String(repeating: " ", count: widths[column] - cells[column].count) + cells[column]
                }
                text += line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
            }
            text += "\n"
            for side in [ours] + (theirs.map { [$0] } ?? []) {
                text += "\(side.tool) \(side.version) cold:    \(stages(side.cold.stages))\n"
                text += "\(side.tool) \(side.version) rebuild: \(stages(side.rebuild.stages))\n"
            }
            for note in report.notes { text += "note: \(note)\n" }
            return text
        }

        static func stages(_ stages: [LiveBuild.Manifest.Stage]) -> String {
            stages.map { "\($0.name) \(fixed($0.seconds, places: 1)) s" }.joined(separator: ", ")
        }

        /// `75.4` → `1 min 15.4 s`; under a minute `9.8 s`.
        static func duration(_ seconds: Double) -> String {
            let tenths = Int((seconds * 10).rounded())
            let minutes = tenths / 600, rest = Double(tenths % 600) / 10
            return minutes > 0 ? "\(minutes) min \(fixed(rest, places: 1)) s" : "\(fixed(rest, places: 1)) s"
        }

        static func megabytes(_ bytes: Double) -> String {
            "\(fixed(bytes / 1_000_000, places: 1)) MB"
        }

        static func fixed(_ value: Double, places: Int) -> String {
            let scale = Int(pow(10.0, Double(places)))
            let scaled = Int((value * Double(scale)).rounded())
            guard places > 0 else { return String(scaled) }
            let digits = String(scaled % scale)
            return "\(scaled / scale).\(String(repeating: "0", count: places - digits.count))\(digits)"
        }
    }
}
