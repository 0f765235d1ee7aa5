import Foundation
import VirtualCluster

extension VirtualCluster {
    /// Join and failure-detection times of clusterd on `nodes` QEMU nodes booted from `image`.
    ///
    /// After the nodes see each other, each round stops the last node's agent (`systemctl stop
    /// clusterd`: the process exits without a goodbye, as a crash would) and times until every
    /// other node lists it dead, then starts it again and times from the instant the agent began
    /// listening until every other node lists it alive. Instants come from the ages the agents
    /// report (``MembershipProbe``), so the guest-agent round trips do not count.
    public static func membershipBenchmark(
        image: String, nodes: Int, rounds: Int, runDirectory: String,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> MembershipBenchmark.Report {
        _ = try await down(runDirectory: runDirectory)
        let cluster = try await up(.init(runDirectory: runDirectory, image: image, count: nodes), timeout: .seconds(600))
        do {
            let report = try await measure(cluster, nodes: nodes, rounds: rounds, progress: progress)
            _ = try await down(runDirectory: runDirectory)
            return report
        } catch {
            progress("failed: \(error)\n\(consoleTails(cluster.nodes, lines: 20))")
            _ = try? await down(runDirectory: runDirectory)
            throw error
        }
    }

    static func measure(_ cluster: Controller, nodes count: Int, rounds: Int, progress: @Sendable (String) -> Void) async throws -> MembershipBenchmark.Report {
        let probe = MembershipProbe(cluster: cluster)
        let names = cluster.nodes.map(\.name)
        var ids: [String] = []
        for name in names {
            // Waits out DHCP: the agent answers "starting" until it has an address.
            let deadline = ContinuousClock.now + .seconds(300)
            while true {
                if let status = try? await probe.status(name).status { ids.append(status.id); break }
                guard ContinuousClock.now < deadline else { throw Error(.boot, "clusterd on \(name) never came up") }
                try await Task.sleep(for: .seconds(1))
            }
        }
        for id in ids {
            _ = try await probe.waitUntil(names, list: id, as: .alive, deadline: .seconds(300))
        }
        progress("\(count) nodes see each other")

        let victim = names[names.count - 1], victimID = ids[ids.count - 1]
        let observers = Array(names.dropLast())
        var report = MembershipBenchmark.Report(agents: count, joinSeconds: [], failureSeconds: [])
        for round in 1...max(1, rounds) {
            let stopped = Date()
            let stop = try await cluster.exec(victim, command: "systemctl stop clusterd")
            guard stop.exitCode == 0 else { throw Error(.exec, "systemctl stop clusterd on \(victim) failed") }
            let dead = try await probe.waitUntil(observers, list: victimID, as: .dead, deadline: .seconds(60))
            let detected = dead.values.compactMap { $0.stateChanged(victimID) }.max() ?? Date()
            report.failureSeconds.append(detected.timeIntervalSince(stopped))

            let start = try await cluster.exec(victim, command: "systemctl start clusterd")
            guard start.exitCode == 0 else { throw Error(.exec, "systemctl start clusterd on \(victim) failed") }
            let alive = try await probe.waitUntil(observers, list: victimID, as: .alive, deadline: .seconds(60))
            let listening = try await probe.status(victim).agentStartedAt
            let joined = alive.values.compactMap { $0.stateChanged(victimID) }.max() ?? Date()
            report.joinSeconds.append(joined.timeIntervalSince(listening))
            progress("round \(round): failure detection \(report.failureSeconds.last ?? 0) s, join \(report.joinSeconds.last ?? 0) s")
        }
        return report
    }
}
