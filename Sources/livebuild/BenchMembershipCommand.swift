import ArgumentParser
import Foundation
import LiveBuild

extension BenchCommand {
    /// Join and failure-detection times of real clusterd agents on loopback, beside HashiCorp
    /// memberlist (LAN defaults) measured the same way in the same run.
    struct MembershipBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "membership",
            abstract: "clusterd join and failure detection on loopback, beside memberlist (Tests/Reference/memberlist).")

        @Option(help: "Agents, the one started and killed each round included.")
        var agents = 20

        @Option(help: "Rounds (one join and one kill each).")
        var rounds = 5

        @Option(help: "The clusterd to run (default: the one livebuild installs into images).")
        var clusterd: String?

        @Option(help: "The memberlist reference binary (built from Tests/Reference/memberlist); omitted: ours only.")
        var reference: String?

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            guard agents >= 2 else { throw ValidationError("--agents must be at least 2") }
            guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        }

        struct Output: Codable {
            var clusterd: MembershipBenchmark.Report
            var memberlist: MembershipBenchmark.Report?
        }

        func run() async throws {
            do {
                let binary = try clusterd ?? AgentBinaries.locate().clusterd
                let scratch = NSTemporaryDirectory() + "/livebuild-bench-membership-\(getpid())"
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                let ours = try await MembershipBenchmark(clusterd: binary, agents: agents, rounds: rounds, scratch: scratch)
                    .run { line in if !json { FileHandle.standardError.write(Data("clusterd: \(line)\n".utf8)) } }
                var output = Output(clusterd: ours)
                if let reference {
                    output.memberlist = try await MembershipBenchmark.reference(binary: reference, agents: agents, rounds: rounds)
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    FileHandle.standardOutput.write(try encoder.encode(output))
                    print()
                    return
                }
                print("membership on loopback, \(agents) agents, \(rounds) rounds (median / max, seconds)")
                print("  clusterd    join \(fmt(ours.medianJoin)) / \(fmt(ours.maxJoin))   failure detection \(fmt(ours.medianFailure)) / \(fmt(ours.maxFailure))")
                if let theirs = output.memberlist {
                    print("  memberlist  join \(fmt(theirs.medianJoin)) / \(fmt(theirs.maxJoin))   failure detection \(fmt(theirs.medianFailure)) / \(fmt(theirs.maxFailure))")
                    print("  ratio (clusterd / memberlist, medians): join \(fmt(ours.medianJoin / theirs.medianJoin)), failure detection \(fmt(ours.medianFailure / theirs.medianFailure))")
                }
            } catch {
                throw Failure.report(error)
            }
        }

        func fmt(_ value: Double) -> String {
            let hundredths = Int((value * 100).rounded())
            let fraction = String(abs(hundredths) % 100)
            return "\(hundredths / 100).\(fraction.count == 1 ? "0" : "")\(fraction)"
        }
    }
}
