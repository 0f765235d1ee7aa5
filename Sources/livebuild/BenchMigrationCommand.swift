import ArgumentParser
import Benchmarks
import Foundation
import Qemu
import VirtualCluster

extension BenchCommand {
    /// Migration freeze and total times on two QEMU nodes, with and without pre-copy, beside
    /// plain `criu dump` + `criu restore` of the same job over the same link.
    struct MigrationBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migration",
            abstract: "Job migration between two QEMU nodes (pre-copy, no pre-copy) beside plain criu dump + restore.")

        @Option(help: "The ISO both nodes boot (a profile with a cluster section, e.g. the default profile's).")
        var image: String

        @Option(help: "Job sizes in MiB, comma-separated.")
        var sizes = "16,256,1024"

        @Option(help: "Size in MiB of the write-heavy job (a thread rewriting random pages all the time) moved once; 0: none.")
        var writer = 200

        @Flag(inversion: .prefixedNo, help: "Also measure CRIU's own lazy migration (post-copy) of the same job.")
        var lazy = true

        @Option(help: "Memory of each node in MiB (a job, its images and its restored copy must fit).")
        var memory = 4096

        @Option(help: "vCPUs per node.")
        var cpus = 1

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            guard !sizeList.isEmpty, sizeList.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--sizes must be positive MiB counts separated by commas, e.g. 16,256,1024")
            }
            guard (0...65536).contains(writer) else { throw ValidationError("--writer must be 0 to 65536 MiB") }
            if let largest = (sizeList + [writer]).max(), memory < 3 * largest + 512 {
                throw ValidationError("--memory \(memory) MiB is too small for a \(largest) MiB job: the source holds the job and its images, the destination the images and the restored job; give at least \(3 * largest + 512)")
            }
            guard FileManager.default.fileExists(atPath: image) else {
                throw ValidationError("--image \(image) does not exist; build one with `livebuild make profiles/cluster.json`")
            }
        }

        var sizeList: [Int] { sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

        func run() async throws {
            do {
                let runDirectory = NSTemporaryDirectory() + "/lb-bench-migration-\(getpid())"
                let report = try await VirtualCluster.migrationBenchmark(
                    image: image, sizesMiB: sizeList, writerMiB: writer > 0 ? writer : nil, lazy: lazy, memoryMiB: memory, cpus: cpus, runDirectory: runDirectory
                ) { line in FileHandle.standardError.write(Data("migration: \(line)\n".utf8)) }
                try? FileManager.default.removeItem(atPath: runDirectory)
                if json {
                    try BenchCommand.printJSON(report)
                    return
                }
                print("migration between 2 QEMU nodes (\(Qemu.Accelerator.probe().rawValue), \(cpus) vCPU, \(memory) MiB each), seconds")
                print("  size MiB  method                  freeze  down    total   rounds  MB/s    extra MiB (source, destination)")
                for row in report.rows {
                    let extra = row.sourceExtraMiB.map { "\(Int($0)), \(Int(row.destinationExtraMiB ?? 0))" } ?? "-"
                    print("  " + [pad(String(row.sizeMiB), 8), pad(row.method, 22), pad(fmt(row.freezeSeconds), 6),
                                  pad(fmt(row.downtimeSeconds), 6), pad(fmt(row.totalSeconds), 6), pad(String(row.precopyRounds), 6),
                                  pad(row.megabytesPerSecond.map { BenchCommand.fixed($0, places: 1) } ?? "-", 6), extra].joined(separator: "  "))
                }
                for size in Set(report.rows.map(\.sizeMiB)).sorted() {
                    let rows = report.rows.filter { $0.sizeMiB == size }
                    guard let plain = rows.first(where: { $0.method == "plain criu" }), plain.freezeSeconds > 0,
                          let precopy = rows.first(where: { $0.method == "pre-copy" }) else { continue }
                    print("  \(size) MiB: freeze with pre-copy / plain criu dump = \(fmt(precopy.freezeSeconds / plain.freezeSeconds))")
                    if let ours = rows.first(where: { $0.method == "no pre-copy" })?.megabytesPerSecond, let theirs = plain.megabytesPerSecond {
                        print("  \(size) MiB: stream MB/s / page server MB/s = \(fmt(ours / theirs))")
                    }
                    if let theirs = rows.first(where: { $0.method == "criu lazy" }), theirs.downtimeSeconds > 0, theirs.totalSeconds > 0 {
                        // Ours restore lazily either way: pre-copy from the destination's images,
                        // post-copy from the source.
                        for method in ["pre-copy", "post-copy"] {
                            guard let ours = rows.first(where: { $0.method == method }) else { continue }
                            print("  \(size) MiB: \(method) / criu lazy: down \(fmt(ours.downtimeSeconds / theirs.downtimeSeconds)), total \(fmt(ours.totalSeconds / theirs.totalSeconds))")
                        }
                    }
                }
                print("  freeze: the final dump (the job stopped on the source); down: until it can run on the destination")
            } catch {
                throw Failure.report(error)
            }
        }

        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        func fmt(_ value: Double) -> String { BenchCommand.fixed(value, places: 2) }
    }
}
