import ClusterControl
import Foundation

extension VirtualCluster {
    /// Reads each node's membership view through `cluster nodes --json` / `cluster status
    /// --json` run by the guest agent, and turns the ages the agents report into host instants:
    /// the instant a node saw a change is (when the answer came back) − (its reported age), an
    /// upper bound off by at most one exec round trip, whatever the polling rate.
    public struct MembershipProbe: Sendable {
        public let cluster: Controller

        public init(cluster: Controller) {
            self.cluster = cluster
        }

        /// One node's view and the host instant its answer arrived.
        public struct View: Sendable {
            public var nodes: [Control.Node]
            public var receivedAt: Date

            /// The row of node `id`, if listed.
            public func row(_ id: String) -> Control.Node? { nodes.first { $0.id == id } }

            /// When this node saw `id` enter its current state, on the host's clock.
            public func stateChanged(_ id: String) -> Date? {
                row(id).map { receivedAt.addingTimeInterval(-$0.stateChangedSecondsAgo) }
            }
        }

        public func view(_ node: String) async throws -> View {
            let result = try await cluster.exec(node, path: "/usr/bin/cluster", arguments: ["nodes", "--json"], timeout: .seconds(60))
            let receivedAt = Date()
            guard result.exitCode == 0 else {
                throw Error(.exec, "`cluster nodes --json` on \(node) exited with \(result.exitCode.map(String.init) ?? "a signal"): \(String(decoding: result.standardError, as: UTF8.self))")
            }
            return View(nodes: try JSONDecoder().decode([Control.Node].self, from: Data(result.standardOutput)), receivedAt: receivedAt)
        }

        /// `cluster status --json` on `node`, with the host instant the agent started.
        public func status(_ node: String) async throws -> (status: Control.Status, agentStartedAt: Date) {
            let result = try await cluster.exec(node, path: "/usr/bin/cluster", arguments: ["status", "--json"], timeout: .seconds(60))
            let receivedAt = Date()
            guard result.exitCode == 0 else {
                throw Error(.exec, "`cluster status --json` on \(node) exited with \(result.exitCode.map(String.init) ?? "a signal"): \(String(decoding: result.standardError, as: UTF8.self))")
            }
            let status = try JSONDecoder().decode(Control.Status.self, from: Data(result.standardOutput))
            return (status, receivedAt.addingTimeInterval(-status.agentUptimeSeconds))
        }

        /// Polls `observers` until each lists node id `subject` in `state`, failing if any of
        /// them ever lists one of `never`; returns each observer's view at that point.
        public func waitUntil(
            _ observers: [String], list subject: String, as state: Control.Node.State, never: Set<String> = [],
            deadline: Duration
        ) async throws -> [String: View] {
            var seen: [String: View] = [:]
            let end = ContinuousClock.now + deadline
            var last: [String: String] = [:]
            while seen.count < observers.count {
                for observer in observers where seen[observer] == nil {
                    // An agent still starting (no address yet) answers with an error: keep waiting.
                    let view: View
                    do {
                        view = try await self.view(observer)
                    } catch {
                        last[observer] = "\(error)"
                        continue
                    }
                    if let intruder = view.nodes.first(where: { never.contains($0.id) }) {
                        throw Error(.exec, "\(observer) lists \(intruder.hostname) (\(intruder.id)), which must never be a member")
                    }
                    last[observer] = view.nodes.map { "\($0.hostname)=\($0.state.rawValue)" }.joined(separator: " ")
                    if view.row(subject)?.state == state { seen[observer] = view }
                }
                if seen.count == observers.count { break }
                if ContinuousClock.now > end {
                    let missing = observers.filter { seen[$0] == nil }
                    let views = missing.map { "\($0): \(last[$0] ?? "no answer")" }.joined(separator: "; ")
                    throw Error(.boot, "after \(deadline), \(missing.joined(separator: ", ")) still do not list \(subject) as \(state) (\(views))")
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            return seen
        }
    }
}
