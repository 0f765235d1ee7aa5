import Foundation
import HostTools
import Logging

extension VirtualCluster {
    /// What `down` found and removed.
    public struct DownReport: Sendable, Hashable {
        public var namespace: String
        /// QEMU processes stopped.
        public var stoppedVMs: Int
        public var stoppedDnsmasq: Bool
        public var removedNamespace: Bool

        public var nothingWasRunning: Bool { stoppedVMs == 0 && !stoppedDnsmasq && !removedNamespace }
    }

    /// Stops every QEMU and dnsmasq started from `runDirectory` and removes its namespace.
    ///
    /// Needs no state file: the namespace name is derived from the run directory and the
    /// processes are found in /proc by their command line, so it also cleans up after a run
    /// that crashed or was killed. Idempotent: succeeds when nothing runs. Console logs stay.
    @discardableResult
    public static func down(
        runDirectory: String,
        logger: Logger = Logger(label: "livebuild.cluster"),
        onEvent: @escaping @Sendable (Event) -> Void = { _ in }
    ) async throws -> DownReport {
        try Host.requireRoot("stopping a virtual cluster")
        let directory = Plan.absolute(runDirectory, in: FileManager.default.currentDirectoryPath)
        let namespace = Plan.namespaceName(runDirectory: directory)
        var report = DownReport(namespace: namespace, stoppedVMs: 0, stoppedDnsmasq: false, removedNamespace: false)

        let processes = Host.clusterProcesses(runDirectory: directory)
        let programs = processes.map { pid in
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")).map { ($0 as NSString).lastPathComponent }) ?? "?"
        }
        await Host.terminate(processes)
        for (pid, program) in zip(processes, programs) {
            logger.debug("stopped \(program) \(pid)")
            onEvent(.stopped(pid: pid, program: program))
            if program.hasPrefix("dnsmasq") { report.stoppedDnsmasq = true } else { report.stoppedVMs += 1 }
        }
        let survivors = processes.filter(Host.isAlive)
        if !survivors.isEmpty {
            throw Error(.tool, "processes \(survivors.map(String.init).joined(separator: ", ")) of the cluster in \(directory) survived SIGKILL")
        }

        if Host.namespaceExists(namespace) {
            try Host.requireTools(["ip"])
            try await Host.run(["ip", "netns", "del", namespace], tools: ToolRunner(logger: logger))
            report.removedNamespace = true
            onEvent(.namespaceRemoved(namespace))
        }
        removeRunFiles(runDirectory: directory)
        return report
    }
}
