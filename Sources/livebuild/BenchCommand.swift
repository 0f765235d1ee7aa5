import ArgumentParser
import Benchmarks
import Foundation
import LiveBuild
import Squashfs

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: each stage beside a reference tool in the same run (see Docs/benchmarks.md).",
        subcommands: [SquashfsBench.self, BuildBench.self, DiskBench.self, BootBench.self, MembershipBench.self, MigrationBench.self, PxeBench.self, StreamBench.self]
    )

    /// A report as the benchmarks' `--json` prints it: pretty, keys sorted, then a newline.
    static func printJSON(_ report: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
    }

    /// `value` with `places` decimals (benchmark figures; no `String(format:)`).
    static func fixed(_ value: Double, places: Int = 2) -> String {
        let scale = pow(10.0, Double(places))
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale), fraction = scaled % Int(scale)
        let digits = String(fraction)
        return "\(whole).\(String(repeating: "0", count: places - digits.count))\(digits)"
    }

    struct SquashfsBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "squashfs",
            abstract: "Our squashfs writer against tar2sqfs on the same tar and settings."
        )

        @Argument(help: "A root filesystem tar (e.g. a cached base from ~/.cache/livebuild/base).")
        var tar: String

        @Option(help: "Compressor (zstd, xz, gzip, lz4, lzo).")
        var compression = "zstd"

        @Option(help: "Compression level (default: the compressor's own, 15 for zstd, as tar2sqfs).")
        var level: UInt32?

        @Option(help: "Block size in bytes.")
        var blockSize = 131_072

        @Option(help: "Compression threads (default: all cores).")
        var threads = Squashfs.Options.defaultThreads

        @Option(help: "Repeat each side this many times and keep the fastest.")
        var runs = 1

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            guard let compressor = Squashfs.Compression(rawValue: compression) else {
                throw ValidationError("unknown compressor '\(compression)'; use zstd, xz, gzip, lz4 or lzo")
            }
            do {
                let benchmark = SquashfsBenchmark(tar: tar, compression: compressor, level: level, blockSize: blockSize,
                                                  threads: threads, scratch: NSTemporaryDirectory() + "/livebuild-bench-\(getpid())")
                var best: SquashfsBenchmark.Report?
                for _ in 0..<max(1, runs) {
                    let report = try await benchmark.run()
                    if let current = best {
                        best = SquashfsBenchmark.Report(ours: report.ours.seconds < current.ours.seconds ? report.ours : current.ours,
                                     tar2sqfs: report.tar2sqfs.seconds < current.tar2sqfs.seconds ? report.tar2sqfs : current.tar2sqfs)
                    } else {
                        best = report
                    }
                }
                guard let report = best else { return }
                if json {
                    try BenchCommand.printJSON(report)
                } else {
                    print("squashfs stage vs tar2sqfs: \(compression) level \(level.map(String.init) ?? "default"), \(blockSize) B blocks, \(threads) threads")
                    print("  livebuild  \(fmt(report.ours.seconds)) s  \(report.ours.bytes) bytes  peak RSS \(report.ours.peakRSSKiB / 1024) MiB")
                    print("  tar2sqfs   \(fmt(report.tar2sqfs.seconds)) s  \(report.tar2sqfs.bytes) bytes  peak RSS \(report.tar2sqfs.peakRSSKiB / 1024) MiB")
                    print("  ratio (livebuild / tar2sqfs): time \(fmt(report.timeRatio)), size \(fmt(report.sizeRatio, places: 4))")
                }
            } catch {
                throw Failure.report(error)
            }
        }

        func fmt(_ value: Double, places: Int = 2) -> String {
            BenchCommand.fixed(value, places: places)
        }
    }
}
