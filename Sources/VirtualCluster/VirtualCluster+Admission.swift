import ClusterControl
import Foundation

extension VirtualCluster {
    /// Admits diskless `nodes` on `head`, as its administrator would: waits until each has asked
    /// to join (its MAC in `cluster pending`), then runs `cluster admit MAC` for it. A node that
    /// boots from the network carries no cluster key (Docs/security.md, "Admission"); the
    /// virtual cluster's MACs are its own, so `livebuild cluster up` vouches for them. Returns
    /// the head's entries for them once admitted.
    public static func admit(
        _ cluster: Controller, head: String = "node1", nodes: [Node], deadline: Duration = .seconds(300)
    ) async throws -> [Control.Admission] {
        let wanted = Set(nodes.map { $0.mac.lowercased() })
        let end = ContinuousClock.now + deadline
        var last: [Control.Admission] = []
        while true {
            let result = try await cluster.exec(head, command: "cluster pending --json", timeout: .seconds(60))
            if result.exitCode == 0, let entries = try? JSONDecoder().decode([Control.Admission].self, from: Data(result.standardOutput)) {
                last = entries
                let ours = entries.filter { !wanted.isDisjoint(with: $0.macs.map { $0.lowercased() }) }
                if Set(ours.filter { $0.state == .admitted }.flatMap(\.macs).map { $0.lowercased() }).isSuperset(of: wanted) {
                    return ours.filter { $0.state == .admitted }
                }
                for entry in ours where entry.state == .waiting {
                    guard let mac = entry.macs.first(where: { wanted.contains($0.lowercased()) }) else { continue }
                    let decision = try await cluster.exec(head, command: "cluster admit \(mac)", timeout: .seconds(60))
                    guard decision.exitCode == 0 else {
                        throw Error(.exec, "\(head): `cluster admit \(mac)` failed: \(String(decoding: decision.standardError, as: UTF8.self))")
                    }
                }
            }
            guard ContinuousClock.now < end else {
                let seen = last.map { "\($0.macs.joined(separator: ",")) \($0.state.rawValue)" }.joined(separator: "; ")
                throw Error(.boot, "\(deadline) after they booted, \(head) has not admitted \(wanted.sorted().joined(separator: ", ")) (its pending list: \(seen.isEmpty ? "empty" : seen)); see the nodes' consoles and `journalctl -u clusterd` on them")
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}
