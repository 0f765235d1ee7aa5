#if canImport(Glibc)
import Glibc
#endif
import Agent
import ArgumentParser
import BootServer
import CJobs
import Jobs

/// The shared directory (clusterd-share.service, when `clusterd configure` left
/// /run/clusterd/share): on the head, a tmpfs holding what the image had there, exported over
/// NFS to the cluster's network; on every other node, that export mounted from the head,
/// retried until the head answers (Docs/pxe.md, shared storage).
struct ShareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share",
        abstract: "Export the shared directory over NFS (head) or mount it from the head (other nodes).")

    @Option(help: "The setting written by clusterd configure.")
    var file = Agent.Configurator.shareFile

    @Option(help: "Seconds between mount attempts while the head does not answer.")
    var retry = 3

    @Option(help: "Seconds to wait for an IPv4 address before exporting.")
    var waitForAddress = 120

    static let log = "/run/clusterd/share.log"

    func run() async throws {
        guard let text = Self.read(file) else {
            print("clusterd share: \(file) does not exist: nothing to share or mount")
            return
        }
        switch try SharedDirectory(line: String(text.split(separator: "\n").first ?? "")) {
        case .export(let path): try await export(path)
        case .mount(let server, let path): try await mount(server: server, path: path)
        }
    }

    private func export(_ path: String) async throws {
        var address = InterfaceAddress.find()
        var waited = 0
        while address == nil && waited < waitForAddress {
            try await Task.sleep(for: .seconds(1))
            waited += 1
            address = InterfaceAddress.find()
        }
        guard let address else {
            throw BootServerError("no IPv4 address after \(waitForAddress) s: the head exports \(path) to the network it is on")
        }
        // overlayfs (the live root) cannot be exported: the directory becomes a tmpfs holding
        // what the image had there.
        if Self.filesystemType(path) != Self.tmpfsMagic {
            let staging = "/run/clusterd/share-staging"
            try await Self.run(["/usr/bin/mkdir", "-p", path, staging])
            try await Self.run(["/usr/bin/cp", "-a", path + "/.", staging + "/"])
            try await Self.run(["/usr/bin/mount", "-t", "tmpfs", "-o", "mode=0755", "livebuild-shared", path])
            try await Self.run(["/usr/bin/cp", "-a", staging + "/.", path + "/"])
            try await Self.run(["/usr/bin/rm", "-rf", staging])
        }
        let line = SharedDirectory.exportsLine(path: path, network: address.network, prefixLength: address.prefixLength)
        try await Self.run(["/usr/bin/mkdir", "-p", "/etc/exports.d"])
        guard let handle = fopen(SharedDirectory.exportsFile, "w") else {
            throw BootServerError("cannot write \(SharedDirectory.exportsFile): \(String(cString: strerror(errno)))")
        }
        fputs(line, handle)
        fclose(handle)
        // nfs-server.service (on the head only) reads the file when it starts; if it is running
        // already, this applies it.
        let exit = try await Jobs.Command.run(["/usr/sbin/exportfs", "-ra"], log: Self.log)
        print("clusterd share: exporting \(path) to \(address.network)/\(address.prefixLength) over NFS\(exit == .exited(0) ? "" : " (exportfs -ra: \(exit); nfs-server.service applies it when it starts)")")
    }

    private func mount(server: String, path: String) async throws {
        try await Self.run(["/usr/bin/mkdir", "-p", path])
        let arguments = SharedDirectory.mountArguments(server: server, path: path)
        var attempt = 0
        while true {
            attempt += 1
            let exit = try await Jobs.Command.run(arguments, log: Self.log)
            if exit == .exited(0) {
                print("clusterd share: mounted \(server):\(path) on \(path) (attempt \(attempt))")
                return
            }
            if attempt == 1 || attempt % 20 == 0 {
                print("clusterd share: cannot mount \(server):\(path) yet (\(exit), see \(Self.log)); retrying every \(retry) s")
            }
            try await Task.sleep(for: .seconds(retry))
        }
    }

    private static func run(_ arguments: [String]) async throws {
        let exit = try await Jobs.Command.run(arguments, log: log)
        guard exit == .exited(0) else {
            throw BootServerError("\(arguments.joined(separator: " ")) failed (\(exit)); see \(log)")
        }
    }

    static let tmpfsMagic = 0x0102_1994

    private static func filesystemType(_ path: String) -> Int? {
        let type = cjobs_filesystem_type(path)
        return type < 0 ? nil : type
    }

    private static func read(_ path: String) -> String? {
        guard let handle = fopen(path, "r") else { return nil }
        defer { fclose(handle) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 512)
        while fgets(&buffer, Int32(buffer.count), handle) != nil {
            text += String(cString: buffer)
        }
        return text
    }
}
