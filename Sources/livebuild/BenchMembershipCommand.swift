import ArgumentParser
import Benchmarks
import Foundation
import LiveBuild
import Qemu
import VirtualCluster

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

        @Option(help: "Instead of loopback agents: boot this many QEMU nodes from --image (needs root).")
        var vms: Int?

        @Option(help: "The ISO the --vms nodes boot (a profile with a cluster section).")
        var image: String?

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            guard agents >= 2 else { throw ValidationError("--agents must be at least 2") }
            guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
            if let vms {
                guard vms >= 2 else { throw ValidationError("--vms must be at least 2") }
                guard image != nil else { throw ValidationError("--vms needs --image ISO") }
            }
        }

        struct Output: Codable {
            var clusterd: MembershipBenchmark.Report
            var memberlist: MembershipBenchmark.Report?
        }

        func run() async throws {
            do {
                if let vms, let image {
                    let runDirectory = NSTemporaryDirectory() + "/lb-bench-\(getpid())"
                    let report = try await VirtualCluster.membershipBenchmark(
                        image: image, nodes: vms, rounds: rounds, runDirectory: runDirectory
                    ) { line in FileHandle.standardError.write(Data("vms: \(line)\n".utf8)) }
                    try? FileManager.default.removeItem(atPath: runDirectory)
                    print("membership on \(vms) QEMU nodes (\(Qemu.Accelerator.probe().rawValue)), \(rounds) rounds (median / max, seconds)")
                    print("  clusterd    join \(fmt(report.medianJoin)) / \(fmt(report.maxJoin))   failure detection \(fmt(report.medianFailure)) / \(fmt(report.maxFailure))")
                    return
                }
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
                    try BenchCommand.printJSON(output)
                    return
                }
                print("membership on loopback, \(agents) agents, \(rounds) rounds (median / max, seconds)")
                print("  clusterd    join \(fmt(ours.medianJoin)) / \(fmt(ours.maxJoin))   failure detection \(fmt(ours.medianFailure)) / \(fmt(ours.maxFailure))")
                if let idle = ours.idleCPUPercent {
                    print("  clusterd    idle CPU of the \(agents - 1) converged agents together: \(fmt(idle)) % of one core")
                }
                if let theirs = output.memberlist {
                    print("  memberlist  join \(fmt(theirs.medianJoin)) / \(fmt(theirs.maxJoin))   failure detection \(fmt(theirs.medianFailure)) / \(fmt(theirs.maxFailure))")
                    print("  ratio (clusterd / memberlist, medians): join \(fmt(ours.medianJoin / theirs.medianJoin)), failure detection \(fmt(ours.medianFailure / theirs.medianFailure))")
                }
            } catch {
                throw Failure.report(error)
            }
        }

        func fmt(_ value: Double) -> String {
            BenchCommand.fixed(value)
        }
    }
}
