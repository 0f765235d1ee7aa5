import ArgumentParser
import Benchmarks
import Foundation

extension BenchCommand {
    /// The agents' encrypted stream beside plain TCP on loopback, and the ciphers it could use.
    struct StreamBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stream",
            abstract: "The agents' encrypted stream beside plain TCP on loopback, and ChaCha20-Poly1305 beside AES-GCM.")

        @Option(help: "MiB sent per run (written to tmpfs first).")
        var megabytes = 256

        @Option(help: "Runs of each method (the median is reported).")
        var runs = 3

        @Option(help: "A tmpfs directory for the file sent.")
        var scratch = "/dev/shm"

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            guard (1...16384).contains(megabytes) else { throw ValidationError("--megabytes must be 1 to 16384") }
            guard (1...50).contains(runs) else { throw ValidationError("--runs must be 1 to 50") }
        }

        func run() async throws {
            do {
                let bench = StreamBenchmark(megabytes: megabytes, runs: runs, scratch: scratch + "/lb-bench-stream-\(getpid())")
                defer { try? FileManager.default.removeItem(atPath: bench.scratch) }
                let report = try await bench.run { line in FileHandle.standardError.write(Data("stream: \(line)\n".utf8)) }
                if json {
                    try BenchCommand.printJSON(report)
                    return
                }
                print("\(megabytes) MiB over loopback, median of \(runs) runs, MB/s")
                for row in report.rows {
                    print("  " + row.method + String(repeating: " ", count: max(1, 48 - row.method.count)) + BenchCommand.fixed(row.median, places: 1))
                }
                print("  agent stream (the cipher chosen here) ÷ plain TCP = \(BenchCommand.fixed(report.streamRatio))")
                print("  page relay ÷ agent stream = \(BenchCommand.fixed(report.relayRatio)); one page through the relay and back: \(Int(report.relayRoundTripMicroseconds)) µs")
            } catch {
                throw Failure.report(error)
            }
        }
    }
}
