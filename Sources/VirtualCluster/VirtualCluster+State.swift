import Foundation

extension VirtualCluster {
    /// `RUNDIR/cluster.json`: what `up` started, read by `exec`, `kill` and `down`. `down` does
    /// not depend on it (the namespace name and the pid files are found from the run directory).
    public struct State: Sendable, Hashable, Codable {
        /// Bumped when the format changes incompatibly.
        public var version = 1
        public var runDirectory: String
        public var namespace: String
        public var network: Network
        public var dnsmasqPidFile: String
        public var nodes: [Node]

        public init(runDirectory: String, namespace: String, network: Network, dnsmasqPidFile: String, nodes: [Node]) {
            self.runDirectory = runDirectory
            self.namespace = namespace
            self.network = network
            self.dnsmasqPidFile = dnsmasqPidFile
            self.nodes = nodes
        }

        public static func fileName(runDirectory: String) -> String { runDirectory + "/cluster.json" }

        /// Pretty, sorted JSON with a final newline.
        public func encoded() throws(VirtualCluster.Error) -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do {
                var data = try encoder.encode(self)
                data.append(UInt8(ascii: "\n"))
                return data
            } catch {
                throw Error(.state, "cannot encode the cluster state", underlying: error)
            }
        }

        public static func decode(_ data: Data, path: String) throws(VirtualCluster.Error) -> State {
            let state: State
            do {
                state = try JSONDecoder().decode(State.self, from: data)
            } catch {
                throw Error(.state, "\(path) is not a cluster state file; run `livebuild cluster down` for this run directory and start again", underlying: error)
            }
            guard state.version == 1 else {
                throw Error(.state, "\(path) has state format \(state.version), this livebuild reads 1; run `livebuild cluster down` with the livebuild that started it")
            }
            return state
        }

        /// The node called `reference`: `node2` or its 1-based index `2`.
        public func node(_ reference: String) throws(VirtualCluster.Error) -> Node {
            let index = Int(reference) ?? (reference.hasPrefix("node") ? Int(reference.dropFirst(4)) : nil)
            guard let index, let node = nodes.first(where: { $0.index == index }) else {
                let names = nodes.count == 1 ? "node1" : "node1..node\(nodes.count)"
                throw Error(.configuration, "no node '\(reference)' in the cluster of \(runDirectory); it has \(names) (or their numbers 1..\(nodes.count))")
            }
            return node
        }
    }
}
