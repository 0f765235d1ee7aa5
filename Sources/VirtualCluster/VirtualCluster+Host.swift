import Foundation
import HostTools

extension VirtualCluster {
    /// The few host facts and effects `up`, `down` and `Controller` need: privileges, running
    /// tools, the namespace, and the processes a cluster started.
    enum Host {
        /// Throws unless running as root; `action` says what needed it.
        static func requireRoot(_ action: String) throws(VirtualCluster.Error) {
            guard geteuid() == 0 else {
                throw Error(.permission, "\(action) needs root (it manages a network namespace and QEMU processes owned by root); run livebuild with sudo")
            }
        }

        /// Debian packages providing the tools, for the message when one is missing.
        static let providers = ["ip": "iproute2", "dnsmasq": "dnsmasq-base", "qemu-system-x86_64": "qemu-system-x86"]

        static func requireTools(_ tools: [String]) throws(VirtualCluster.Error) {
            for tool in tools where ToolRunner.locate(tool) == nil {
                let package = providers[tool].map { "; install the Debian package '\($0)'" } ?? ""
                throw Error(.tool, "\(tool) is not installed (not on PATH, /usr/sbin or /sbin)\(package)")
            }
        }

        /// Runs `command` (program first) and waits for it; a failure carries its stderr.
        static func run(_ command: [String], tools: ToolRunner) async throws(VirtualCluster.Error) {
            guard let program = command.first else { return }
            do {
                try await tools.run(program, Array(command.dropFirst()))
            } catch {
                throw Error(.tool, "\(command.prefix(6).joined(separator: " "))\(command.count > 6 ? " ..." : "") failed", underlying: error)
            }
        }

        static func namespaceExists(_ namespace: String) -> Bool {
            FileManager.default.fileExists(atPath: "/run/netns/" + namespace)
        }

        /// Creates `path` (and its parents) and makes sure it is a real directory owned by root
        /// with mode 0700: the guest-agent sockets in it give a shell in every node.
        static func prepareRunDirectory(_ path: String) throws(VirtualCluster.Error) {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw Error(.configuration, "cannot create the run directory \(path)", underlying: error)
            }
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw Error(.configuration, "run directory \(path) is not a directory (or is a symbolic link); choose another --run-dir")
            }
            guard info.st_uid == geteuid() else {
                throw Error(.configuration, "run directory \(path) belongs to uid \(info.st_uid), not root; choose another --run-dir")
            }
            guard chmod(path, 0o700) == 0 else {
                throw Error(.configuration, "cannot make \(path) private (chmod 0700): \(String(cString: strerror(errno)))")
            }
        }

        // MARK: - Processes

        /// The process id in `path`, if the file holds one.
        static func pid(inFile path: String) -> Int32? {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
            return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        /// Whether `pid` exists and is not a zombie.
        static func isAlive(_ pid: Int32) -> Bool {
            guard pid > 0, Foundation.kill(pid, 0) == 0 || errno == EPERM else { return false }
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            return state != "Z" && state != "X"
        }

        /// Programs a cluster starts; `belongsToRun` recognises only these.
        static let clusterPrograms = ["qemu-system-x86_64", "dnsmasq"]

        /// Whether `pid` is a QEMU or dnsmasq started for `runDirectory`: its executable is one of
        /// `clusterPrograms` and its command line names a file in the run directory. Guards
        /// against pid files that outlived their process and a recycled pid.
        static func belongsToRun(_ pid: Int32, runDirectory: String) -> Bool {
            guard isAlive(pid),
                  let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
                  let arguments = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let name = (executable as NSString).lastPathComponent
            guard clusterPrograms.contains(where: { name == $0 || name.hasPrefix($0 + " ") }) else { return false }
            let prefix = runDirectory + "/"
            return arguments.split(separator: 0).contains { String(decoding: $0, as: UTF8.self).contains(prefix) }
        }

        /// Every live QEMU and dnsmasq of `runDirectory`, found in /proc (so pid files and the
        /// state file may be missing or stale).
        static func clusterProcesses(runDirectory: String) -> [Int32] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap(Int32.init).filter { belongsToRun($0, runDirectory: runDirectory) }.sorted()
        }

        /// SIGTERM, then SIGKILL for what is left after `grace`; returns when all are gone or
        /// after another `grace`.
        static func terminate(_ pids: [Int32], grace: Duration = .seconds(5)) async {
            for pid in pids { Foundation.kill(pid, SIGTERM) }
            if await waitUntilGone(pids, timeout: grace) { return }
            for pid in pids where isAlive(pid) { Foundation.kill(pid, SIGKILL) }
            _ = await waitUntilGone(pids, timeout: grace)
        }

        /// Polls until none of `pids` is alive; false at the timeout.
        static func waitUntilGone(_ pids: [Int32], timeout: Duration) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while pids.contains(where: isAlive) {
                if ContinuousClock.now >= deadline { return false }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return true
        }
    }
}

extension VirtualCluster {
    /// Throws `Error(.permission)` with what to do unless this process runs as root.
    public static func requireRoot(_ action: String) throws(VirtualCluster.Error) {
        try Host.requireRoot(action)
    }
}
