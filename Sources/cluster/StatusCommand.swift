import ArgumentParser
import ClusterControl

/// `cluster status`: this node's settings with their sources, and the agent's counters.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show this node: each setting and where it came from, datagram counters.")

    @OptionGroup var options: ControlOptions

    func run() throws {
        let response = try Request.send(.status, socket: options.socket)
        guard case .status(let status) = response else { throw Request.unexpected(response, to: .status) }
        if options.json {
            try Output.printJSON(status)
            return
        }
        print("node \(status.hostname) (\(status.id)) in cluster '\(status.clusterName)' at \(status.address ?? "no address yet")")
        print("agent \(status.agentVersion), up \(Output.duration(Int(status.agentUptimeSeconds))), key fingerprint \(status.keyFingerprint)")
        let members = ["alive", "suspect", "dead"].map { "\(status.members[$0] ?? 0) \($0)" }.joined(separator: ", ")
        print("members: \(members)")
        print("")
        var rows = [["SETTING", "VALUE", "SOURCE"]]
        for setting in status.settings { rows.append([setting.name, setting.value, setting.source]) }
        print(Output.table(rows))
        let counters = status.counters
        var counterRows = [["COUNTER", "VALUE"], ["accepted", String(counters.accepted)], ["sent", String(counters.sent)],
                           ["send errors", String(counters.sendErrors)], ["rejected", String(counters.rejectedTotal)]]
        for (reason, count) in counters.rejected.sorted(by: { $0.key < $1.key }) {
            counterRows.append(["  " + reason, String(count)])
        }
        counterRows.append(["streams accepted", String(counters.streamsAccepted)])
        counterRows.append(["streams rejected", String(counters.streamsRejected.values.reduce(0, +))])
        for (reason, count) in counters.streamsRejected.sorted(by: { $0.key < $1.key }) {
            counterRows.append(["  " + reason, String(count)])
        }
        counterRows.append(["membership dropped", String(counters.membershipDropped.values.reduce(0, +))])
        for (reason, count) in counters.membershipDropped.sorted(by: { $0.key < $1.key }) where count > 0 {
            counterRows.append(["  " + reason, String(count)])
        }
        counterRows.append(["sessions started", String(counters.sessionsStarted)])
        print(Output.table(counterRows), terminator: "")
    }
}
