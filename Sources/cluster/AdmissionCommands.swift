import ArgumentParser
import ClusterControl

/// `cluster pending`: on the head, the nodes that asked to join without the key.
struct PendingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pending",
        abstract: "On the head: the nodes that booted without the cluster key and asked to join, waiting, admitted or denied.")

    @OptionGroup var options: ControlOptions

    func run() throws {
        let response = try Request.send(.pending, socket: options.socket)
        guard case .admissions(let admissions) = response else { throw Request.unexpected(response, to: .pending) }
        try AdmissionTable.print(admissions, json: options.json, empty: "no node has asked to join")
    }
}

/// `cluster admit`: seal the cluster key to the nodes named.
struct AdmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admit",
        abstract: "On the head, as root: admit the named waiting node (it receives the cluster key, sealed to its own key). Compare the fingerprint with the node's console first.")

    @OptionGroup var options: ControlOptions
    @OptionGroup var decision: AdmissionDecision

    func run() throws { try decision.send(.admit, options: options) }
}

/// `cluster deny`: refuse the nodes named.
struct DenyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny", abstract: "On the head, as root: refuse the named node; it never gets the key (`cluster admit` can undo this).")

    @OptionGroup var options: ControlOptions
    @OptionGroup var decision: AdmissionDecision

    func run() throws { try decision.send(.deny, options: options) }
}

/// The node an `admit` or `deny` names, and the request that carries the decision.
struct AdmissionDecision: ParsableArguments {
    @Argument(help: "A fingerprint (or 4+ of its hex digits), MAC, node id, host name, or `all`.")
    var node: String

    func send(_ command: Control.Request.Command, options: ControlOptions) throws {
        let request: Control.Request = command == .admit ? .admit(selector: node) : .deny(selector: node)
        let response = try Request.send(request, socket: options.socket)
        guard case .admissions(let admissions) = response else { throw Request.unexpected(response, to: request) }
        try AdmissionTable.print(admissions, json: options.json, empty: "")
    }
}

enum AdmissionTable {
    static func print(_ admissions: [Control.Admission], json: Bool, empty: String) throws {
        if json {
            try Output.printJSON(admissions)
            return
        }
        guard !admissions.isEmpty else {
            if !empty.isEmpty { Swift.print(empty) }
            return
        }
        var rows = [["FINGERPRINT", "HOST", "NODE", "MAC", "SERIAL", "FROM", "STATE", "SEEN"]]
        for entry in admissions {
            rows.append([
                entry.fingerprint, entry.hostname, entry.node, entry.macs.joined(separator: ","), entry.serial ?? "-",
                entry.address, entry.state.rawValue + (entry.decidedBy.map { " (\($0))" } ?? ""),
                Output.duration(Int(entry.lastSeenSecondsAgo)) + " ago",
            ])
        }
        Swift.print(Output.table(rows), terminator: "")
    }
}
