import CJobs
import ClusterControl
import Glibc
import Processes

extension SharedDirectory {
    /// `clusterd share` (clusterd-share.service): on the head, the shared directory as a tmpfs
    /// holding what the image had there, exported over NFS to the cluster's members alone
    /// (kept up to date while it runs); on every other node, that export mounted from the
    /// head, retried until the head answers (Docs/pxe.md, shared storage).
    public struct Service: Sendable {
        /// Seconds between mount attempts while the head does not answer.
        public var retry: Int
        /// Seconds between asking the agent for the members the export is for (head).
        public var refresh: Int
        /// Where the mount helper's and the tools' output goes.
        public static let log = "/run/clusterd/share.log"

        public init(retry: Int = 3, refresh: Int = 5) {
            self.retry = retry
            self.refresh = refresh
        }

        /// Does what `setting` says, for as long as the service runs (a mount returns once made).
        public func run(_ setting: SharedDirectory) async throws {
            switch setting {
            case .export(let path): try await export(path)
            case .mount(let server, let path): try await mount(server: server, path: path)
            case .discover(let path): try await mount(server: await discoverServer(path: path), path: path)
            }
        }

        /// Exports `path` to the cluster's members alone and keeps doing so: every `refresh`
        /// seconds it asks the local agent who the members are (the nodes holding the cluster key:
        /// `cluster nodes`) and rewrites the exports file when the set changed. Until the agent
        /// answers, the directory is exported to nobody; when it stops answering (a restart), the
        /// last set stays.
        func export(_ path: String) async throws {
            // overlayfs (the live root) cannot be exported: the directory becomes a tmpfs holding
            // what the image had there.
            if Self.filesystemType(path) != Self.tmpfsMagic {
                let staging = "/run/clusterd/share-staging"
                try await Self.run(["/usr/bin/mkdir", "-p", path, staging])
                try await Self.run(["/usr/bin/cp", "-a", path + "/.", staging + "/"])
                try await Self.run(["/usr/bin/mount", "-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "livebuild-shared", path])
                try await Self.run(["/usr/bin/cp", "-a", staging + "/.", path + "/"])
                try await Self.run(["/usr/bin/rm", "-rf", staging])
            }
            var exported: [String]?
            var clientsOverTime = SharedDirectory.ExportClients()
            while true {
                let members = await Self.askAgent().map { nodes in
                    // Suspect members stay, and a member missing or dead keeps the export for a
                    // minute (ExportClients.grace): dropping it would fail its jobs' I/O.
                    clientsOverTime.update(
                        listed: SharedDirectory.exportClients(agentAddresses: nodes.filter { $0.state != .dead }.map(\.address)),
                        now: .now)
                }
                if exported == nil || (members != nil && members != exported) {
                    let clients = members ?? []
                    try await Self.publish(SharedDirectory.exportsText(path: path, clients: clients), to: SharedDirectory.exportsFile,
                                           starting: exported == nil ? ["nfs-server.service"] : [])
                    Self.say(clients.isEmpty
                        ? "clusterd share: exporting \(path) over NFS to nobody until the agent lists the members"
                        : "clusterd share: exporting \(path) over NFS to the \(clients.count) member(s): \(clients.joined(separator: " "))")
                    exported = clients
                }
                try await Task.sleep(for: .seconds(refresh))
            }
        }

        /// The local agent's `cluster nodes`, or nil when it does not answer (not started yet).
        /// `Control.Client.send` blocks on the control socket, so it runs on a thread of its own,
        /// never on the cooperative pool.
        private static func askAgent() async -> [Control.Node]? {
            await withCheckedContinuation { continuation in
                Processes.onThread {
                    let answer = try? Control.Client.send(.nodes)
                    guard case .nodes(let nodes) = answer else { return continuation.resume(returning: nil) }
                    continuation.resume(returning: nodes)
                }
            }
        }

        /// The first member the local agent lists alive that announces it exports the shared
        /// directory (the head), asked every `retry` seconds.
        func discoverServer(path: String) async throws -> String {
            var asked = 0
            while true {
                asked += 1
                if let nodes = await Self.askAgent(),
                   let head = nodes.first(where: { !$0.isSelf && $0.state == .alive && $0.sharesDirectory == true }) {
                    let server = SharedDirectory.host(ofAgentAddress: head.address)
                    Self.say("clusterd share: \(head.hostname) (\(server)) exports \(path)")
                    return server
                }
                if asked == 1 {
                    Self.say("clusterd share: no member exports \(path) yet; asking the agent every \(retry) s until one does")
                }
                try await Task.sleep(for: .seconds(retry))
            }
        }

        func mount(server: String, path: String) async throws {
            try await Self.run(["/usr/bin/mkdir", "-p", path])
            let arguments = SharedDirectory.mountArguments(server: server, path: path)
            var attempt = 0
            while true {
                attempt += 1
                let exit = try await Processes.run(arguments, log: Self.log)
                if exit == .exited(0) {
                    Self.say("clusterd share: mounted \(server):\(path) (the server's NFSv4 root) on \(path) (attempt \(attempt))")
                    return
                }
                if attempt == 1 || attempt % 20 == 0 {
                    Self.say("clusterd share: cannot mount \(server):\(path) yet (\(exit), see \(Self.log)); retrying every \(retry) s")
                }
                try await Task.sleep(for: .seconds(retry))
            }
        }

        /// Writes one exports file, starts `units` (the image does not start the NFS server at
        /// boot: only the head serves), then applies the exports in case it was running already.
        public static func publish(_ text: String, to file: String, starting units: [String]) async throws {
            try await run(["/usr/bin/mkdir", "-p", "/etc/exports.d"])
            guard let handle = fopen(file, "w") else {
                throw BootServerError("cannot write \(file): \(String(cString: strerror(errno)))")
            }
            fputs(text, handle)
            fclose(handle)
            if !units.isEmpty { try await run(["/usr/bin/systemctl", "start"] + units) }
            try await run(["/usr/sbin/exportfs", "-ra"])
        }

        private static func run(_ arguments: [String]) async throws {
            let exit = try await Processes.run(arguments, log: log)
            guard exit == .exited(0) else {
                throw BootServerError("\(arguments.joined(separator: " ")) failed (\(exit)); see \(log)")
            }
        }

        static let tmpfsMagic = 0x0102_1994

        private static func filesystemType(_ path: String) -> Int? {
            let type = cjobs_filesystem_type(path)
            return type < 0 ? nil : type
        }

        /// One line to stdout at once: it reaches the journal and the console as it happens
        /// (print's buffer would hold the mount loop's lines while it retries).
        public static func say(_ text: String) {
            var line = text + "\n"
            line.withUTF8 { bytes in _ = write(1, bytes.baseAddress, bytes.count) }
        }
    }
}
