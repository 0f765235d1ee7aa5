import ArgumentParser
import Benchmarks
import Foundation
import Qemu
import VirtualCluster

extension BenchCommand {
    /// Power-on to listed, ISO boot beside PXE boot, and 1, 4 and 8 diskless nodes booting at
    /// once from one head (Docs/benchmarks.md).
    struct PxeBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pxe",
            abstract: "Power-on to listed in `cluster nodes`, ISO beside PXE boot; several diskless nodes booting at once from one head.")

        @Option(help: "The ISO of a cluster profile with a pxe output (e.g. the default profile's).")
        var image: String

        @Option(help: "Diskless node counts, one cluster each, comma-separated.")
        var nodes = "1,4,8"

        @Option(help: "Memory of each node in MiB (a diskless node holds its squashfs in RAM).")
        var memory = 1536

        @Option(help: "Seconds between one diskless node's power-on and the next (a PDU's sequenced power-on); 0 powers them on together.")
        var interval = 5

        @Option(help: "Seconds each count's nodes may take to boot, and again to be listed (TCG guests on few cores need more as the count grows).")
        var timeout = 900

        @Flag(help: "Print JSON.")
        var json = false

        var counts: [Int] { nodes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

        func validate() throws {
            guard !counts.isEmpty, counts.allSatisfy({ (1...(VirtualCluster.maximumNodes - 2)).contains($0) }) else {
                throw ValidationError("--nodes must be counts of diskless nodes from 1 to \(VirtualCluster.maximumNodes - 2), comma-separated, e.g. 1,4,8")
            }
            guard (0...600).contains(interval) else { throw ValidationError("--interval \(interval): give 0 to 600 seconds") }
            guard (60...7200).contains(timeout) else { throw ValidationError("--timeout \(timeout): give 60 to 7200 seconds") }
            guard memory >= 1024 else { throw ValidationError("--memory \(memory): a diskless node needs at least 1024 MiB (its squashfs lives in RAM)") }
            guard FileManager.default.fileExists(atPath: image) else {
                throw ValidationError("--image \(image) does not exist; build one with `livebuild make profiles/cluster.json`")
            }
        }

        func run() async throws {
            do {
                let runDirectory = NSTemporaryDirectory() + "/lb-bench-pxe-\(getpid())"
                let report = try await VirtualCluster.pxeBenchmark(
                    image: image, counts: counts, memoryMiB: memory, powerOnInterval: .seconds(interval), timeout: .seconds(timeout),
                    runDirectory: runDirectory
                ) { line in FileHandle.standardError.write(Data("pxe: \(line)\n".utf8)) }
                try? FileManager.default.removeItem(atPath: runDirectory)
                if json {
                    try BenchCommand.printJSON(report)
                    return
                }
                print("network boot from one head (\(Qemu.Accelerator.probe().rawValue), 1 vCPU, \(memory) MiB each; diskless nodes powered on \(interval) s apart); seconds from power-on")
                print("  diskless  ISO: head, node2  PXE: each node (mean / max)  all listed  squashfs served     head sent")
                for row in report.rows {
                    let mean = row.pxeListedSeconds.reduce(0, +) / Double(max(1, row.pxeListedSeconds.count))
                    let isoMean = row.isoListedSeconds.reduce(0, +) / Double(max(1, row.isoListedSeconds.count))
                    print("  " + [
                        pad(String(row.disklessNodes), 8),
                        pad(row.isoListedSeconds.map(fmt).joined(separator: ", "), 15),
                        pad("\(fmt(mean)) / \(fmt(row.pxeListedSeconds.max() ?? 0))", 30),
                        pad(fmt(row.allListedSeconds), 10),
                        pad("\(fmt(row.squashfsBytesPerSecond / 1e6)) MB/s in \(fmt(row.downloadWindowSeconds)) s", 18),
                        "\(fmt(Double(row.headBytesSent) / 1e6)) MB",
                    ].joined(separator: "  "))
                    print("  \(row.disklessNodes) diskless: PXE / ISO power-on to listed = \(fmt(mean / max(isoMean, 0.001)))"
                          + (row.powerCycles > 0 ? "; \(row.powerCycles) node(s) power-cycled after their firmware gave up (included)" : ""))
                }
                print("  listed: node1 (the head) lists the node alive in `cluster nodes`; ISO nodes boot two at once, PXE nodes all at once")
                for failure in report.failures {
                    print("  \(failure.disklessNodes) diskless: no figures: \(failure.reason)")
                }
                if report.guestPanics > 0 {
                    print("  \(report.guestPanics) run(s) repeated after a guest kernel panic")
                }
            } catch {
                throw Failure.report(error)
            }
        }

        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        func fmt(_ value: Double) -> String { BenchCommand.fixed(value, places: 1) }
    }
}
