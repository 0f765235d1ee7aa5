import Foundation
import Qemu

extension VirtualCluster {
    /// A running cluster, from its state: runs commands on nodes through their guest agents and
    /// kills nodes. Holds no resources; any number may exist for one cluster, in any process.
    public struct Controller: Sendable {
        public let state: State

        public init(state: State) {
            self.state = state
        }

        /// The cluster running from `runDirectory`, read from its state file.
        public static func open(runDirectory: String) throws(VirtualCluster.Error) -> Controller {
            try Host.requireRoot("reaching a virtual cluster")
            let directory = Plan.absolute(runDirectory, in: FileManager.default.currentDirectoryPath)
            let path = State.fileName(runDirectory: directory)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Error(.state, "no cluster runs from \(directory) (no \(path)); start one with `livebuild cluster up`")
            }
            return Controller(state: try State.decode(data, path: path))
        }

        public var nodes: [Node] { state.nodes }

        /// The node called `reference` (`node2` or `2`).
        public func node(_ reference: String) throws(VirtualCluster.Error) -> Node {
            try state.node(reference)
        }

        /// Whether the QEMU of `node` still runs.
        public func isRunning(_ node: Node) -> Bool {
            node.pid.map { Host.belongsToRun($0, runDirectory: state.runDirectory) } ?? false
        }

        /// Runs `command` with `/bin/sh -c` on `node` and returns its output and status.
        public func exec(_ node: String, command: String, timeout: Duration = .seconds(120)) async throws -> Qemu.GuestAgent.ExecStatus {
            try await exec(node, path: "/bin/sh", arguments: ["-c", command], timeout: timeout)
        }

        /// Runs `path` with `arguments` on `node` through its guest agent and returns its output
        /// and status. Throws if the node is not running or the agent does not answer in time.
        public func exec(_ reference: String, path: String, arguments: [String], timeout: Duration = .seconds(120)) async throws -> Qemu.GuestAgent.ExecStatus {
            let node = try node(reference)
            guard isRunning(node) else {
                throw Error(.exec, "\(node.name) is not running (QEMU \(node.pid.map(String.init) ?? "never started") is gone); its console log is \(node.consoleLog)")
            }
            do {
                return try await Qemu.GuestAgent(socketPath: node.agentSocket).exec(path: path, arguments: arguments, timeout: timeout)
            } catch {
                throw Error(.exec, "running \(path) on \(node.name) failed", underlying: error)
            }
        }

        /// Kills the QEMU of `node` with SIGKILL, as a crash or a pulled power cord would, and
        /// waits until it is gone. Does nothing if it already is.
        public func kill(_ reference: String) async throws {
            let node = try node(reference)
            guard let pid = node.pid, isRunning(node) else { return }
            Foundation.kill(pid, SIGKILL)
            guard await Host.waitUntilGone([pid], timeout: .seconds(10)) else {
                throw Error(.tool, "QEMU \(pid) of \(node.name) survived SIGKILL")
            }
        }

        /// Waits until every node's guest agent answers `guest-ping`; throws at `deadline`, when
        /// a QEMU exits, or as soon as a node's console shows a kernel panic (a panicked guest
        /// never answers), naming the nodes still awaited. A network-boot node whose firmware
        /// gave up (``firmwareGaveUp(consoleLog:)``) throws ``FirmwareGaveUp``, for the caller
        /// to power-cycle it.
        public func waitUntilReady(
            deadline: ContinuousClock.Instant, since start: ContinuousClock.Instant = .now,
            onEvent: @Sendable (Event) -> Void = { _ in }
        ) async throws {
            var pending = nodes
            while !pending.isEmpty {
                for node in pending {
                    guard isRunning(node) else {
                        throw Error(.boot, "\(node.name): QEMU exited while booting; see \(node.consoleLog)")
                    }
                    if let panic = Self.kernelPanic(consoleLog: node.consoleLog) {
                        throw Error(.boot, "\(node.name): the guest kernel panicked while booting (\(panic)); see \(node.consoleLog)")
                    }
                    if node.networkBoot == true, let line = Self.firmwareGaveUp(consoleLog: node.consoleLog) {
                        throw FirmwareGaveUp(node: node, line: line)
                    }
                    if Qemu.GuestAgent(socketPath: node.agentSocket).ping(timeout: .seconds(2)) {
                        pending.removeAll { $0.name == node.name }
                        onEvent(.nodeReady(name: node.name, after: .now - start))
                    }
                }
                guard !pending.isEmpty else { return }
                guard ContinuousClock.now < deadline else {
                    throw Error(.boot, "timed out after \(Self.seconds(ContinuousClock.now - start)) s waiting for the guest agent of \(pending.map(\.name).joined(separator: ", ")) to answer guest-ping; check the console logs, and that the image has the package qemu-guest-agent")
                }
                try await Task.sleep(for: min(.seconds(1), max(.zero, deadline - .now)))
            }
        }

        /// The `Kernel panic - ...` line of a console log, if there is one.
        static func kernelPanic(consoleLog: String) -> String? {
            // Lossy: firmware writes bytes that are not UTF-8 to the console.
            guard let data = FileManager.default.contents(atPath: consoleLog) else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            guard text.contains("Kernel panic") else { return nil }
            // Serial consoles end lines with CR LF, one Character in Swift.
            return text.split(whereSeparator: \.isNewline).first { $0.contains("Kernel panic") }.map { line in
                let start = line.range(of: "Kernel panic")?.lowerBound ?? line.startIndex
                return String(line[start...].prefix(120))
            }
        }

        /// The console line showing that a network-boot node's firmware stopped trying: OVMF,
        /// once every network boot option failed (iPXE's DHCP timing out on a loaded host, seen
        /// under TCG), starts its built-in shell and waits there for a keyboard. SeaBIOS retries
        /// by itself (`reboot-timeout`, ``Plan/machine(for:)``).
        static func firmwareGaveUp(consoleLog: String) -> String? {
            guard let data = FileManager.default.contents(atPath: consoleLog) else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            guard text.contains("EFI Internal Shell") else { return nil }
            return text.split(whereSeparator: \.isNewline).first { $0.contains("starting") && $0.contains("EFI Internal Shell") }
                .map { String($0.prefix(120)) }
        }

        /// `duration` in seconds with one decimal, for messages.
        static func seconds(_ duration: Duration) -> String {
            let tenths = Int(duration / .milliseconds(100))
            return "\(tenths / 10).\(tenths % 10)"
        }
    }
}

extension VirtualCluster {
    /// A network-boot node's firmware gave up; the node waits for a power cycle.
    public struct FirmwareGaveUp: Swift.Error, Sendable {
        public var node: Node
        /// The console line that shows it.
        public var line: String
    }
}
