#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterWire
import Glibc
import Jobs
import Migration
import NIOCore
import NIOPosix
import Processes
import Synchronization

extension Agent.Migrator {
    /// A socketpair that carries CRIU's page-server protocol between a criu run and the agent
    /// (criu's `--ps-socket`): no TCP port is opened, so no other process on the node can ask
    /// for a job's pages. The agent relays its end over the migration stream
    /// (``relay(_:socket:)``), both ways at once: the lazy-pages daemon on the destination asks
    /// for pages, and `criu dump --lazy-pages` on the source answers from the frozen job.
    ///
    /// ``ours`` stays open until ``release()``, whatever the relay does: criu sees the
    /// connection end only when the agent has decided what becomes of the job. On the source an
    /// early end would make criu resume its frozen copy by itself; on the destination it would
    /// make the lazy-pages daemon exit, and the job's missing pages would then read as zeros.
    final class PageSocket: Sendable {
        /// criu's end: descriptor 3 of the criu run, closed here once it is started.
        let criuEnd: Int32
        /// The agent's end.
        let ours: Int32

        init() throws {
            var pair: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
                throw Agent.Failure("cannot make a socket pair for CRIU's pages: \(String(cString: strerror(errno)))")
            }
            // Above the child's low numbers: Processes.spawn copies descriptors to 0, 1, 2, 3, …
            // in order, and a source among those numbers would be overwritten first.
            let moved = pair.map { fcntl($0, F_DUPFD_CLOEXEC, 10) }
            pair.forEach { _ = close($0) }
            guard moved.allSatisfy({ $0 >= 0 }) else {
                moved.forEach { if $0 >= 0 { _ = close($0) } }
                throw Agent.Failure("cannot move CRIU's page socket: \(String(cString: strerror(errno)))")
            }
            (criuEnd, ours) = (moved[0], moved[1])
            // Pages cross in criu's transfers of up to 4 MiB: with the default buffers (208 KiB)
            // criu and the relay took turns every few dozen pages, each turn a pair of context
            // switches, which TCG makes dear. Root may set more than net.core.*mem_max.
            var size: Int32 = Self.bufferBytes
            for descriptor in [criuEnd, ours] {
                _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
                _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
            }
        }

        /// Each direction's socket buffers.
        static let bufferBytes: Int32 = 4 << 20

        /// After criu has started with its end.
        func closeCRIUEnd() { _ = close(criuEnd) }

        private let released = Mutex(false)

        /// Ends the connection for criu (once; later calls do nothing).
        func release() {
            guard !released.withLock({ done in defer { done = true }; return done }) else { return }
            _ = shutdown(ours, Int32(SHUT_RDWR))
            _ = close(ours)
        }
    }

    /// What crossed the relay.
    struct RelayCount: Sendable {
        var sent: UInt64 = 0
        var received: UInt64 = 0
    }

    /// Relays bytes between `socket` and `stream` until both directions have ended: criu's
    /// end of its direction (it closed or shut down its socket) goes out as an empty frame,
    /// and an empty frame from the peer shuts down criu's input. Throws when the stream breaks,
    /// the peer closes it, or a frame is bad; the socket stays open (``PageSocket/release()``).
    ///
    /// The stream is used by two tasks here, one sending and one receiving: the only use of
    /// a ``Agent/SecureStream`` from two tasks, which its separate sending and receiving state
    /// allows. `beforeSending` runs before each piece leaves (a test's fault point).
    /// `receiveLimit`: the most the peer may send (a page server's budget on the destination).
    static func relay(
        _ stream: Agent.SecureStream, socket: PageSocket, receiveLimit: UInt64? = nil, beforeSending: (@Sendable () async -> Void)? = nil
    ) async throws -> RelayCount {
        let descriptor = dup(socket.ours)
        guard descriptor >= 0 else { throw Agent.Failure("cannot duplicate CRIU's page socket: \(String(cString: strerror(errno)))") }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                // Pages come in criu's transfers of up to 4 MiB: read them in frame-sized pieces.
                .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 256 << 10, maximum: Agent.Migrator.chunk))
                .withConnectedSocket(descriptor) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // No half-closure through NIO: its writer is finished whenever the relay's
                        // scope ends, failures included, and a shutdown reaches criu through every
                        // copy of the descriptor. Only a clean end shuts criu's input (below).
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            _ = close(descriptor)
            throw Agent.Failure("cannot relay CRIU's page socket: \(error)")
        }
        let shared = Shared(stream)
        // The async writer returns once a write is queued, and the shutdown below acts on the
        // descriptor at once: it waits for an empty write on the channel itself, written after
        // every queued one (the event loop runs them in order). Without it, what was still
        // queued was cut off: the page server's last answer, 4 bytes, was lost so ("The page
        // server doesn't answer").
        let socketChannel = channel.channel
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: RelayCount.self) { group in
                group.addTask {
                    // criu → peer.
                    var count = RelayCount()
                    for try await buffer in inbound {
                        var buffer = buffer
                        while buffer.readableBytes > 0 {
                            await beforeSending?()
                            let length = min(buffer.readableBytes, Agent.Migrator.chunk)
                            try await shared.stream.send(buffer.readSlice(length: length)!)
                            count.sent += UInt64(length)
                        }
                    }
                    try await shared.stream.send([])
                    return count
                }
                group.addTask {
                    // Peer → criu.
                    var count = RelayCount()
                    while true {
                        guard let payload = try await shared.stream.receive({ ByteBuffer(bytes: $0) }) else {
                            throw Agent.Failure("the other node closed the stream while relaying pages")
                        }
                        if payload.readableBytes == 0 { break }
                        count.received += UInt64(payload.readableBytes)
                        if let receiveLimit, count.received > receiveLimit {
                            throw Agent.Failure("the other node sent more than the \(receiveLimit) bytes of pages this node can take")
                        }
                        try await outbound.write(payload)
                    }
                    // The peer's criu ended its direction: so does ours, once what was written
                    // has left (criu may have closed its end altogether by now).
                    try? await socketChannel.writeAndFlush(ByteBuffer())
                    _ = shutdown(socket.ours, Int32(SHUT_WR))
                    return count
                }
                var total = RelayCount()
                for try await part in group {
                    total.sent += part.sent
                    total.received += part.received
                }
                return total
            }
        }
    }

    /// The stream, for the relay's two tasks: one only sends, the other only receives.
    private struct Shared: @unchecked Sendable {
        let stream: Agent.SecureStream
        init(_ stream: Agent.SecureStream) { self.stream = stream }
    }
}

extension Agent.Migrator {
    /// A criu run that talks over a ``PageSocket``: `criu dump --lazy-pages` on the source,
    /// `criu lazy-pages` on the destination.
    struct PageServing: Sendable {
        let socket: PageSocket
        let pid: pid_t
        private let exit: Task<Processes.Exit, Never>
        private let ended: Agent.Flag

        /// Starts `arguments` with the clean environment in `directory`, output to its
        /// criu-output.log, criu's end of `socket` as descriptor 3 and `extra` after it.
        init(_ arguments: [String], socket: PageSocket, directory: String, extra: [Int32] = []) throws {
            let descriptors = Processes.output(to: directory + "/criu-output.log") + ([socket.criuEnd] + extra).map { Processes.Descriptor.copy(of: $0) }
            do {
                pid = try Processes.spawn(arguments, descriptors: descriptors, directory: directory)
            } catch {
                socket.closeCRIUEnd()
                socket.release()
                throw Agent.Failure(error.description)
            }
            socket.closeCRIUEnd()
            self.socket = socket
            let (pid, ended) = (pid, Agent.Flag())
            self.ended = ended
            exit = Task {
                let exit = await Processes.Reaper.shared.exit(of: pid)
                ended.set()
                return exit
            }
        }

        /// Whether criu has exited.
        var hasEnded: Bool { ended.isSet }

        /// Ends criu's connection (``PageSocket/release()``) and waits for criu to exit.
        func end() async -> Processes.Exit {
            socket.release()
            return await exit.value
        }

        /// Waits up to `limit` for criu to exit on its own, then ends its connection and, if it
        /// still runs a while later, kills it: its exit, nil if it had to be killed.
        func end(within limit: Duration) async -> Processes.Exit? {
            let deadline = ContinuousClock.now + limit
            while !hasEnded && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            socket.release()
            let grace = ContinuousClock.now + .seconds(5)
            while !hasEnded && ContinuousClock.now < grace {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if hasEnded { return await exit.value }
            _ = kill(pid, SIGKILL)
            _ = await exit.value
            return nil
        }

        /// Waits for criu to exit, the connection left as it is.
        func exited() async -> Processes.Exit {
            await exit.value
        }
    }

    /// `task`'s value if it ends well within `limit`, else nil (the task runs on).
    static func value<T: Sendable>(of task: Task<T, any Error>?, within limit: Duration) async -> T? {
        guard let task else { return nil }
        return await withTaskGroup(of: T?.self) { group in
            group.addTask { try? await task.value }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Post-copy's dump of `pid` into `directory` (``Migration/CRIU/lazyDump(pid:directory:hook:mounts:)``):
    /// returns once every image but the job's memory is written, with criu holding the frozen
    /// job and waiting to serve its pages; throws criu's failure if it ends before.
    func startLazyDump(pid: Int32, directory: String, work: String, mounts: [String]) async throws -> PageServing {
        let ready = work + "/dumped"
        let hook = work + "/post-dump.sh"
        unlink(ready)
        // criu runs action scripts itself (no shell): a script that marks the images complete.
        let script = "#!/bin/sh\n[ \"$CRTOOLS_SCRIPT_ACTION\" = post-dump ] && : > '\(ready)'\nexit 0\n"
        guard FileManager.default.createFile(atPath: hook, contents: Data(script.utf8), attributes: [.posixPermissions: 0o700]) else {
            throw Agent.Failure("cannot write \(hook)")
        }
        let dump = try PageServing(criu.lazyDump(pid: pid, directory: directory, hook: hook, mounts: mounts), socket: PageSocket(), directory: directory)
        while access(ready, F_OK) != 0 {
            if dump.hasEnded {
                let exit = await dump.end()
                let log = (try? String(contentsOfFile: directory + "/dump.log", encoding: .utf8)) ?? ""
                throw Migration.CRIU.Failure(step: "dump", exit: "\(exit)", log: log)
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        unlink(ready)
        return dump
    }
}

extension Agent.Migrator {
    /// Starts the lazy-pages daemon for the images in `directory` and returns once it is
    /// ready for `criu restore --lazy-pages` (it says so on its status descriptor).
    func startLazyPages(directory: String) async throws -> PageServing {
        try await ready(try spawnLazyPages(directory: directory))
    }

    /// A lazy-pages daemon started by ``spawnLazyPages(directory:)``, not yet known to be
    /// ready: ``Agent/Migrator/ready(_:)`` waits for it, ``abandon()`` ends it.
    struct StartingLazyPages: Sendable {
        let daemon: PageServing
        /// The read end of its status pipe (non-blocking).
        let status: Int32
        let directory: String

        /// Kills a daemon that will not be used and closes what the agent holds of it.
        func abandon() {
            if !daemon.hasEnded { _ = kill(daemon.pid, SIGKILL) }
            daemon.socket.release()
            _ = close(status)
        }
    }

    /// Starts the lazy-pages daemon for the images in `directory` without waiting for it. It
    /// reads the process tree at once (`inventory.img`, `pstree.img`, each `ids-PID.img`), and
    /// the page maps only when the restore hands it the job's memory.
    func spawnLazyPages(directory: String) throws -> StartingLazyPages {
        var status: [Int32] = [-1, -1]
        // Children get only the descriptors they are given (Processes.spawn closes the rest),
        // so a plain pipe does not leak to other helpers started meanwhile.
        guard pipe(&status) == 0 else {
            throw Agent.Failure("cannot make a pipe for criu lazy-pages: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(status[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(status[0], F_SETFL, O_NONBLOCK)
        let writeEnd = fcntl(status[1], F_DUPFD_CLOEXEC, 10)
        _ = close(status[1])
        guard writeEnd >= 0 else {
            _ = close(status[0])
            throw Agent.Failure("cannot move criu lazy-pages' status pipe: \(String(cString: strerror(errno)))")
        }
        let daemon: PageServing
        do {
            daemon = try PageServing(criu.lazyPages(directory: directory), socket: PageSocket(), directory: directory, extra: [writeEnd])
        } catch {
            _ = close(writeEnd)
            _ = close(status[0])
            throw error
        }
        _ = close(writeEnd)
        return StartingLazyPages(daemon: daemon, status: status[0], directory: directory)
    }

    /// The daemon `starting`, once it says it is ready; if it ends or fails to within 30 s, it
    /// is killed and this throws criu's failure.
    func ready(_ starting: StartingLazyPages) async throws -> PageServing {
        let (daemon, status, directory) = (starting.daemon, starting.status, starting.directory)
        defer { _ = close(status) }
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            var byte: UInt8 = 0
            let got = read(status, &byte, 1)
            if got == 1 { return daemon }
            if got == 0 || daemon.hasEnded || ContinuousClock.now > deadline {
                _ = kill(daemon.pid, SIGKILL)
                let exit = await daemon.end()
                let log = (try? String(contentsOfFile: directory + "/lazy-pages.log", encoding: .utf8)) ?? ""
                throw Migration.CRIU.Failure(step: "lazy-pages", exit: "\(exit)", log: log)
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }


    /// Post-copy on the destination, after `commit`, with job `id` running: waits until the
    /// lazy-pages daemon has every page and answers `done`. If the page stream fails first (the
    /// source is lost), or the daemon fails while the job still runs, the job is killed, before
    /// the daemon can see its connection end, and the answer is `failed`: the source resumes
    /// its frozen copy.
    func pull(_ id: String, pid: Int32, pages: PageServing, slot: PageSlot, directory: String, machine: inout Migration.Destination, on stream: Agent.SecureStream) async throws {
        while !pages.hasEnded && slot.failure == nil {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if let failure = slot.failure, !pages.hasEnded {
            logger.warning("job \(id): its pages stopped coming from the source (\(failure)); the copy here is killed")
            await discardPulled(id, pid: machine.pullFailed())
            // Only now may the daemon see its connection end.
            _ = kill(pages.pid, SIGKILL)
            pages.socket.release()
            try? await send(.failed("the pages stopped coming: \(failure)"), on: stream)
            return
        }
        let exit = await pages.exited()
        pages.socket.release()
        let alive = !Jobs.Usage.processes(sharingNamespaceOf: pid).isEmpty
        if exit == .exited(0) || !alive {
            // Every page is here, or the job ended here meanwhile (killed, or done): either
            // way its fate is this node's now.
            machine.pagesArrived()
            try? await send(.done, on: stream)
            return
        }
        let log = (try? String(contentsOfFile: directory + "/lazy-pages.log", encoding: .utf8)) ?? ""
        let failure = Migration.CRIU.Failure(step: "lazy-pages", exit: "\(exit)", log: log)
        logger.warning("job \(id): its memory stopped arriving (\(failure)); the copy here is killed and the source resumes its own")
        await discardPulled(id, pid: machine.pullFailed())
        try? await send(.failed(failure.description), on: stream)
    }

    /// Kills a post-copy job whose memory cannot all arrive, and forgets it: every process
    /// of it gets SIGKILL (so none runs again, even on a page that would now read as zero),
    /// and the agent waits until they are gone before the daemon's connection may end.
    func discardPulled(_ id: String, pid: Int32) async {
        for member in Jobs.Usage.processes(sharingNamespaceOf: pid) { _ = kill(member, SIGKILL) }
        await jobs.discardRestored(id, pid: pid)
        let deadline = ContinuousClock.now + .seconds(5)
        while kill(pid, 0) == 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        Migration.remove(jobs.layout.directory(id))
    }
}

extension Agent.Migrator {
    /// A post-copy on the destination, waiting for or running its page stream: the
    /// lazy-pages daemon's socket, the source it may come from, and how the relay ended. The
    /// migration stream's task registers it before the restore (which may already need pages);
    /// the page stream's task (``Migration/Message/pages(job:)``) claims it and relays.
    ///
    /// A pre-dump round's page server (``Migration/Message/pageServer(round:parent:)``) takes a
    /// slot the same way, with the most its stream may carry.
    final class PageSlot: Sendable {
        let socket: PageSocket
        let peer: Wire.NodeID
        /// The most the source may send on the page stream (nil: no limit of the slot's own).
        let limit: UInt64?
        private struct State {
            var claimed = false
            var ended = false
            var failure: String?
        }
        private let state = Mutex(State())
        private static let open = Mutex<[String: PageSlot]>([:])
        /// How long the source has to open the page stream after the slot is made.
        static let claimLimit: Duration = .seconds(30)
        private let made = ContinuousClock.now

        init(socket: PageSocket, peer: Wire.NodeID, limit: UInt64? = nil) {
            self.socket = socket
            self.peer = peer
            self.limit = limit
        }

        func register(_ id: String) { Self.open.withLock { $0[id] = self } }

        static func unregister(_ id: String) { _ = open.withLock { $0.removeValue(forKey: id) } }

        /// The slot of job `id` for a page stream from `peer`, once: waits up to `limit` for the
        /// migration stream to register it.
        static func claim(_ id: String, peer: Wire.NodeID, within limit: Duration = .seconds(30)) async -> PageSlot? {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                let slot = open.withLock { $0[id] }
                if let slot, slot.peer == peer {
                    return slot.state.withLock { state in
                        guard !state.claimed else { return nil }
                        state.claimed = true
                        return slot
                    }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return nil
        }

        /// The relay ended: well (nil) or with `failure`.
        func finish(failure: String?) {
            state.withLock {
                $0.ended = true
                $0.failure = failure
            }
        }


        /// Why the page stream failed, or never came (within ``claimLimit``), or nil while it
        /// runs or after it ended well.
        var failure: String? {
            let made = self.made
            return state.withLock { state in
                if let failure = state.failure { return failure }
                if !state.claimed && ContinuousClock.now - made > Self.claimLimit {
                    return "the source opened no page stream within \(Self.claimLimit)"
                }
                return nil
            }
        }
    }

    /// The destination's side of a page stream: relays it into the lazy-pages daemon of the
    /// post-copy it belongs to, or into a pre-dump round's page server. A stream for neither in
    /// progress, or from another node than the migration's, is refused.
    func receivePages(_ stream: Agent.SecureStream, job id: String, from peer: Wire.NodeID) async throws {
        guard Jobs.Layout.isJobID(id), let slot = await PageSlot.claim(id, peer: peer) else {
            throw Agent.Failure("a page stream from \(peer) for no move of \(Migration.Intake.shown(id)) waiting for one here")
        }
        stream.maxPayload = Wire.Stream.maxPayload
        if let deadline = stream.frameDeadline { stream.frameDeadline = (deadline.channel, .seconds(120)) }
        do {
            _ = try await Self.relay(stream, socket: slot.socket, receiveLimit: slot.limit)
            slot.finish(failure: nil)
        } catch {
            slot.finish(failure: "\(error)")
            throw error
        }
    }
}
