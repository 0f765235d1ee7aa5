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
    /// `first`, if any, is the first attempt, into `directory` as it is (a criu started
    /// there already, ``PrestartedCRIU``).
    func dumping(into directory: String, _ machine: Migration.Source, first: (() async throws -> Void)? = nil, _ step: () async throws -> Void) async throws {
        var attempt = 1
        while true {
            if attempt > 1 || first == nil {
                Migration.remove(directory)
                _ = Migration.makeDirectories(directory)
            }
            do {
                if attempt == 1, let first {
                    try await first()
                } else {
                    try await step()
                }
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
        let entries = Migration.sendingOrder(Migration.entries(of: directory)).filter { !$0.path.hasSuffix(".log") }
        return try await sendFiles(entries.map { ($0, directory + "/" + $0.path) }, round: round, on: stream, stoppable: stoppable)
    }

    /// Sends every regular file a process of the job holds open, outside the job's
    /// directory and not on NFS, with its absolute path (round -1).
    func sendOpenFiles(of pid: Int32, on stream: Agent.SecureStream) async throws -> UInt64 {
        var files: [(entry: Migration.FileEntry, source: String)] = []
        for path in Migration.openRegularFiles(of: Jobs.Usage.processes(sharingNamespaceOf: pid)) where !path.hasPrefix(jobs.layout.root + "/") {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            files.append((Migration.FileEntry(path: path, size: UInt64(info.st_size), mode: UInt32(info.st_mode & 0o7777)), path))
        }
        return files.isEmpty ? 0 : try await sendFiles(files, round: -1, on: stream)
    }

    /// Entries per `files` message: its JSON stays far below a frame's megabyte.
    static let entriesPerMessage = 1000

    /// `files` (each an entry and the file to read it from) as `files` messages of round
    /// `round`, each followed by its files' contents back to back in frames of up to a
    /// megabyte (``Migration/Message/files(round:entries:)``); returns the bytes sent.
    func sendFiles(_ files: [(entry: Migration.FileEntry, source: String)], round: Int, on stream: Agent.SecureStream, stoppable: String? = nil) async throws -> UInt64 {
        var total: UInt64 = 0
        for start in stride(from: 0, to: max(files.count, 1), by: Self.entriesPerMessage) {
            let batch = files[start..<min(start + Self.entriesPerMessage, files.count)]
            try await send(.files(round: round, entries: batch.map(\.entry)), on: stream)
            total += try await Self.sendConcatenated(batch.filter { $0.entry.link == nil }.map { ($0.source, $0.entry.size) }, on: stream) {
                if let stoppable, let stop = await jobs.moveStop(stoppable) { throw stop }
            }
        }
        return total
    }

    /// The contents of `files`, each exactly its size, back to back in frames of up to
    /// ``chunk`` bytes; `beforeEachFrame` may throw to stop. Returns the bytes sent.
    static func sendConcatenated(
        _ files: [(path: String, size: UInt64)], on stream: Agent.SecureStream, beforeEachFrame: () async throws -> Void = {}
    ) async throws -> UInt64 {
        let reader = FileConcatenation(files.filter { $0.size > 0 })
        defer { reader.close() }
        var total: UInt64 = 0
        while !reader.isAtEnd {
            try await beforeEachFrame()
            total += UInt64(try await stream.send(filling: chunk) { try reader.read(into: $0) })
        }
        return total
    }

    /// Files read one after another as one run of bytes, each exactly as long as announced.
    final class FileConcatenation {
        private let files: [(path: String, size: UInt64)]
        private var index = 0
        private var descriptor: Int32 = -1
        private var remaining: UInt64 = 0

        init(_ files: [(path: String, size: UInt64)]) {
            self.files = files
        }

        var isAtEnd: Bool { index >= files.count }

        /// Fills `buffer` from the current file on, as far as the files go.
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            var filled = 0
            while filled < buffer.count && index < files.count {
                if descriptor < 0 {
                    descriptor = Glibc.open(files[index].path, O_RDONLY | O_CLOEXEC)
                    guard descriptor >= 0 else { throw Agent.Failure("cannot read \(files[index].path): \(String(cString: strerror(errno)))") }
                    remaining = files[index].size
                }
                let want = Int(min(remaining, UInt64(buffer.count - filled)))
                let got = Glibc.read(descriptor, buffer.baseAddress! + filled, want)
                guard got > 0 else {
                    throw Agent.Failure(got < 0 ? "cannot read \(files[index].path): \(String(cString: strerror(errno)))" : "\(files[index].path) shrank while being sent")
                }
                filled += got
                remaining -= UInt64(got)
                if remaining == 0 {
                    close()
                    index += 1
                }
            }
            return filled
        }

        /// Closes the file being read, if any.
        func close() {
            if descriptor >= 0 { _ = Glibc.close(descriptor) }
            descriptor = -1
        }
    }

    /// Receives the contents of a `files` message's admitted files (``Migration/Destination/Incoming``),
    /// writing each where its placement says as its bytes arrive: one file open at a time,
    /// links made, the job's record read and dropped (the offer's counts). `written` hears
    /// of each file once it is complete.
    func receiveFiles(
        _ incoming: [Migration.Destination.Incoming], job record: Jobs.Record, work: String, on stream: Agent.SecureStream,
        written: (Migration.Destination.Incoming) -> Void = { _ in }
    ) async throws {
        try await Self.receiveConcatenated(
            incoming.map { ($0.size, Self.name(of: $0.placement)) }, on: stream,
            open: { try create(incoming[$0], job: record, work: work) }, written: { written(incoming[$0]) })
    }

    /// Files of `files`' sizes, back to back in the stream's frames (``sendConcatenated(_:on:beforeEachFrame:)``):
    /// each file's bytes go to the descriptor `open` gives for its index (-1: dropped), one
    /// file open at a time, closed once complete, when `written` hears of it. A frame that
    /// runs past the last file, or a stream that ends before it, throws.
    static func receiveConcatenated(
        _ files: [(size: UInt64, name: String)], on stream: Agent.SecureStream, open: (Int) throws -> Int32, written: (Int) -> Void
    ) async throws {
        var position = 0
        var current: (descriptor: Int32, remaining: UInt64)?
        defer { if let current, current.descriptor >= 0 { close(current.descriptor) } }
        // Opens the next file that has bytes to come; the empty ones on the way are complete
        // at once.
        func advance() throws {
            while current == nil && position < files.count {
                let descriptor = try open(position)
                if files[position].size > 0 {
                    current = (descriptor, files[position].size)
                } else {
                    if descriptor >= 0 { close(descriptor) }
                    written(position)
                    position += 1
                }
            }
        }
        try advance()
        while let waiting = current {
            let received = try await stream.receive { bytes throws -> Bool in
                var offset = 0
                while offset < bytes.count {
                    guard var file = current else { throw Agent.Failure("the files' contents run past their announced sizes") }
                    let count = Int(min(file.remaining, UInt64(bytes.count - offset)))
                    if file.descriptor >= 0 {
                        guard write(file.descriptor, bytes.baseAddress! + offset, count) == count else {
                            throw Agent.Failure("cannot write \(files[position].name): disk full?")
                        }
                    }
                    offset += count
                    file.remaining -= UInt64(count)
                    current = file
                    if file.remaining == 0 {
                        if file.descriptor >= 0 { close(file.descriptor) }
                        current = nil
                        written(position)
                        position += 1
                        try advance()
                    }
                }
                return true
            }
            guard received != nil else {
                throw Agent.Failure("the stream ended \(waiting.remaining) bytes before the end of \(files[position].name)")
            }
        }
    }

    /// Creates what `item` places and opens it for writing: its descriptor, or -1 for bytes
    /// to drop (the record, and links, which have none).
    private func create(_ item: Migration.Destination.Incoming, job record: Jobs.Record, work: String) throws -> Int32 {
        switch item.placement {
        case .openFile(let path):
            // As the job's user would: the kernel checks each directory from / for that
            // user, no symbolic link is followed, and the file belongs to the user
            // (Jobs.UserFiles). The path passed Migration.Intake.
            do {
                return try Jobs.UserFiles.create(
                    path, uid: record.uid, gid: record.gid, groups: Jobs.Trust.localGroups(of: record.uid) ?? [record.gid], mode: item.mode)
            } catch {
                throw Agent.Failure(error.description)
            }
        case .jobFile("job.json"):
            // The record that counts is the offer's, checked and written by adoptRestored; a
            // record file from the network never reaches the disk.
            return -1
        case .jobFile(let name):
            let descriptor = try Self.create(directory: jobs.layout.directory(record.id), name: name, mode: item.mode & 0o640)
            _ = fchown(descriptor, record.uid, record.gid)
            return descriptor
        case .image(let round, let name):
            return try Self.create(directory: work + "/\(round)", name: name, mode: item.mode & 0o600)
        case .parentLink(let round, let target):
            let directory = work + "/\(round)"
            _ = Migration.makeDirectories(directory)
            unlink(directory + "/parent")
            guard symlink(target, directory + "/parent") == 0 else { throw Agent.Failure("cannot link \(directory)/parent") }
            return -1
        }
    }

    /// A new file `name` in `directory` (made if missing), replacing one already there.
    private static func create(directory: String, name: String, mode: UInt32) throws -> Int32 {
        guard !name.contains("/"), !name.hasPrefix(".") else { throw Agent.Failure("refusing file name \(name)") }
        _ = Migration.makeDirectories(directory)
        let target = directory + "/" + name
        unlink(target)
        let descriptor = Glibc.open(target, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode))
        guard descriptor >= 0 else { throw Agent.Failure("cannot write \(target): \(String(cString: strerror(errno)))") }
        return descriptor
    }

    /// How a placement is named in errors.
    static func name(of placement: Migration.Intake.Placement) -> String {
        switch placement {
        case .openFile(let path): path
        case .jobFile(let name): name
        case .image(let round, let name): "round \(round)'s \(name)"
        case .parentLink(let round, _): "round \(round)'s parent"
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
