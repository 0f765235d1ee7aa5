#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import ClusterControl
import ClusterWire
import Jobs
import Logging
import Migration
import NIOCore
import NIOPosix
import Processes

extension Agent.Migrator {
    // MARK: Plumbing

    /// Runs a dump step into a fresh `directory`, again from an empty one for as long as
    /// `machine` says a failure is worth retrying (``Migration/Source/retriesDump(after:attempt:)``).
    func dumping(into directory: String, _ machine: Migration.Source, _ step: () async throws -> Void) async throws {
        var attempt = 1
        while true {
            Migration.remove(directory)
            _ = Migration.makeDirectories(directory)
            do {
                try await step()
                return
            } catch let failure as Migration.CRIU.Failure where machine.retriesDump(after: failure, attempt: attempt) {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func withStream<T: Sendable>(to member: Wire.MemberUpdate, _ body: (Agent.SecureStream) async throws -> T) async throws -> T {
        let channel = try await Agent.StreamSocket.connect(to: member.address)
        let keys = core.keys
        let me = core.settings.nodeID
        return try await channel.executeThenClose { inbound, outbound in
            let stream = Agent.SecureStream(inbound: inbound, outbound: outbound)
            let peer = try await stream.connect(as: Wire.Stream.Client(keys: keys, me: me))
            guard peer == member.node else { throw Agent.Failure("\(member.address) answered as \(peer), not \(member.node)") }
            try await stream.send(Array(try JSONEncoder().encode(Agent.PeerFrame.migration)))
            return try await body(stream)
        }
    }

    func send(_ message: Migration.Message, on stream: Agent.SecureStream) async throws {
        try await stream.send(Array(try JSONEncoder().encode(message)))
    }

    func receive(on stream: Agent.SecureStream) async throws -> Migration.Message {
        guard let payload = try await stream.receive() else { throw Agent.Failure("the other node closed the migration stream") }
        return try JSONDecoder().decode(Migration.Message.self, from: Data(payload))
    }

    /// Sends every file of `directory` as round `round`; returns the bytes sent. `stoppable`:
    /// the job whose move a cancel or kill stops between frames (pre-copy only).
    func sendDirectory(_ directory: String, round: Int, on stream: Agent.SecureStream, stoppable: String? = nil) async throws -> UInt64 {
        var total: UInt64 = 0
        for entry in Migration.entries(of: directory) where !entry.path.hasSuffix(".log") {
            try await send(.file(round: round, path: entry.path, size: entry.size, mode: entry.mode, link: entry.link), on: stream)
            guard entry.link == nil else { continue }
            _ = try await sendContents(directory + "/" + entry.path, size: entry.size, on: stream, stoppable: stoppable)
            total += entry.size
        }
        return total
    }

    /// Sends every regular file a process of the job holds open, outside the job's
    /// directory and not on NFS, with its absolute path (round -1).
    func sendOpenFiles(of pid: Int32, on stream: Agent.SecureStream) async throws -> UInt64 {
        var total: UInt64 = 0
        for path in Migration.openRegularFiles(of: Jobs.Usage.processes(sharingNamespaceOf: pid)) where !path.hasPrefix(jobs.layout.root + "/") {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            let name = String(path[path.index(after: path.lastIndex(of: "/") ?? path.startIndex)...])
            let size = UInt64(info.st_size)
            try await send(.file(round: -1, path: path, size: size, mode: UInt32(info.st_mode & 0o7777), link: nil), on: stream)
            total += try await sendContents(directory + "/" + name, size: size, on: stream)
        }
        return total
    }

    /// Writes a file the job holds open at its absolute path, replacing what is there (the
    /// restored process must find the file as it was), as the job's user would: the kernel
    /// checks each directory from / for that user, no symbolic link is followed, and the file
    /// belongs to the user (Jobs.UserFiles). `path` passed ``Migration/Intake``.
    func receiveOpenFile(path: String, size: UInt64, mode: UInt32, owner record: Jobs.Record, on stream: Agent.SecureStream) async throws {
        let descriptor: Int32
        do {
            descriptor = try Jobs.UserFiles.create(
                path, uid: record.uid, gid: record.gid, groups: Jobs.Trust.localGroups(of: record.uid) ?? [record.gid], mode: mode)
        } catch {
            throw Agent.Failure(error.description)
        }
        defer { close(descriptor) }
        try await receiveContents(into: descriptor, name: path, size: size, on: stream)
    }

    func sendContents(_ path: String, size: UInt64, on stream: Agent.SecureStream, stoppable: String? = nil) async throws -> UInt64 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Agent.Failure("cannot read \(path)") }
        defer { close(descriptor) }
        var remaining = size
        while remaining > 0 {
            if let stoppable, let stop = await jobs.moveStop(stoppable) { throw stop }
            let sent = try await stream.send(reading: descriptor, count: Int(min(UInt64(Self.chunk), remaining)))
            guard sent > 0 else { throw Agent.Failure("\(path) shrank while being sent") }
            remaining -= UInt64(sent)
        }
        return size
    }

    func receiveFile(directory: String, path: String, size: UInt64, mode: UInt32, link: String?, on stream: Agent.SecureStream) async throws {
        guard !path.contains("/"), !path.hasPrefix(".") else { throw Agent.Failure("refusing file name \(path)") }
        _ = Migration.makeDirectories(directory)
        let target = directory + "/" + path
        unlink(target)
        if let link {
            guard symlink(link, target) == 0 else { throw Agent.Failure("cannot link \(target)") }
            return
        }
        let descriptor = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode))
        guard descriptor >= 0 else { throw Agent.Failure("cannot write \(target)") }
        defer { close(descriptor) }
        try await receiveContents(into: descriptor, name: path, size: size, on: stream)
    }

    /// Exactly `size` bytes from the stream's frames into `descriptor`.
    func receiveContents(into descriptor: Int32, name: String, size: UInt64, on stream: Agent.SecureStream) async throws {
        var remaining = size
        while remaining > 0 {
            let count = try await stream.receive { bytes throws -> Int in
                guard UInt64(bytes.count) <= remaining else { throw Agent.Failure("\(name) is longer than announced") }
                // Descriptor -1: read and drop (a file the destination does not keep).
                let written = descriptor < 0 ? bytes.count : write(descriptor, bytes.baseAddress, bytes.count)
                guard written == bytes.count else { throw Agent.Failure("cannot write \(name): disk full?") }
                return bytes.count
            }
            guard let count else { throw Agent.Failure("the stream ended inside \(name)") }
            remaining -= UInt64(count)
        }
    }

    /// Runs criu; on failure the error carries the last lines of its log.
    func runCRIU(_ arguments: [String], in directory: String, log: String) async throws -> Processes.Exit {
        let exit: Processes.Exit
        do {
            exit = try await Processes.run(arguments, log: directory + "/criu-output.log", directory: directory)
        } catch {
            throw Agent.Failure(error.description)
        }
        guard exit == .exited(0) else {
            let text = (try? String(contentsOfFile: directory + "/" + log, encoding: .utf8)) ?? ""
            throw Migration.CRIU.Failure(step: arguments.count > 1 ? arguments[1] : "", exit: "\(exit)", log: text)
        }
        return exit
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
