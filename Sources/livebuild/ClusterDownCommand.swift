import ArgumentParser
import Foundation
import VirtualCluster

struct ClusterDownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop the nodes and dnsmasq and remove the network namespace.",
        discussion: "Works without the state file (after a crash): the namespace is named after the run directory and the processes are found by their command lines. Succeeds when nothing is running. Console logs stay in the run directory."
    )

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        do {
            let report = try await VirtualCluster.down(runDirectory: cluster.runDir, logger: common.logger("livebuild.cluster"))
            let text: String
            if report.nothingWasRunning {
                text = "nothing was running from \(cluster.runDir)"
            } else {
                text = "stopped \(report.stoppedVMs) VM(s)\(report.stoppedDnsmasq ? " and dnsmasq" : "")"
                    + (report.removedNamespace ? ", removed network namespace \(report.namespace)" : "")
            }
            FileHandle.standardError.write(Data("cluster: \(text)\n".utf8))
        } catch {
            throw Failure.report(error)
        }
    }
}
