#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Migration
import Processes
import Synchronization

extension Agent.Migrator {
    /// Post-copy's pages on the destination (``Migration/PageFetch``): one task asks the
    /// source's `criu dump --lazy-pages` for every lazy range over the page stream, a few
    /// requests in flight, and keeps what arrives in a file in tmpfs; a thread answers the
    /// lazy-pages daemon here from that file, and a range the daemon needs before it has
    /// arrived is asked for next. The source's agent only relays its criu's socket
    /// (``relay(_:socket:beforeSending:)``).
    ///
    /// Once every page has arrived the job no longer needs the source: a stream that breaks
    /// after that is logged, not a failure of the move.
    final class PulledPages: Sendable {
        private struct State {
            var fetch: Migration.PageFetch
            /// Why the pages stopped coming while some were still missing.
            var failure: String?
            /// The close the daemon sent once it had every page: the source's criu gets it too.
            var daemonClosed: UInt32?
            var served: UInt64 = 0
            var serverEnded = false
            /// For the journal: the first request's time, when the last page arrived, how
            /// many requests the daemon waited for, and how long in all.
            var firstRequest: ContinuousClock.Instant?
            var completed: ContinuousClock.Instant?
            var waits = 0
            var waited: Duration = .zero
            /// The daemon's close went to the source's criu: its status, then its end, follow.
            var closing = false
            /// Whether the rest is fetched ahead: from `commit` on (during the restore only
            /// what the daemon asks for, so the restore does not wait behind the rest).
            var ahead = false
            /// The daemon ended without a close (the job ended here, or the daemon failed):
            /// nothing more is asked for, and what becomes of the job is the daemon's exit's
            /// to say.
            var daemonGone = false
        }
        private let state: Mutex<State>
        /// The file the arrived pages are kept in, in arrival order.
        private let store: Int32
        /// A pipe written on each arrival and failure, for the server thread waiting for a
        /// page: the read end, and the write end (both non-blocking; a full pipe wakes it too).
        private let arrivals: Int32
        private let arrived: Int32
        /// Wakes the task that sends requests: a page is wanted, or the window has room.
        private let wanted: AsyncStream<Void>.Continuation
        private let wantedStream: AsyncStream<Void>
        /// Wakes the task that receives answers: a request left.
        private let sent: AsyncStream<Void>.Continuation
        private let sentStream: AsyncStream<Void>
        let requestSize: Int
        let totalPages: UInt64

        /// Pages asked for at once, and at most in flight: 1 MiB requests, 4 MiB in flight.
        /// Under TCG the fetch ran at 5 MB/s with 256 KiB requests and 1 MiB in flight, and at
        /// 7 MB/s with 1 MiB or 4 MiB requests (Docs/benchmarks.md, "Session 20"); a fault
        /// waits behind at most what is in flight.
        static let requestPages: UInt64 = 256
        static let windowPages: UInt64 = 1024

        /// The lazy ranges of the post-copy dump in `directory` (its `pagemap-ID.img`), kept in
        /// `storePath` as they arrive; criu's requests are `requestSize` bytes.
        init(directory: String, storePath: String, requestSize: Int) throws {
            var pagemaps: [UInt64: Migration.Images.Pagemap] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: directory)
            where name.hasPrefix("pagemap-") && name.hasSuffix(".img") && !name.hasPrefix("pagemap-shmem-") {
                guard let image = UInt64(name.dropFirst("pagemap-".count).dropLast(".img".count)),
                      let data = FileManager.default.contents(atPath: directory + "/" + name)
                else { continue }
                pagemaps[image] = try Migration.Images.Pagemap(bytes: Array(data))
            }
            let fetch = try Migration.PageFetch(pagemaps: pagemaps)
            store = open(storePath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard store >= 0 else { throw Agent.Failure("cannot create \(storePath): \(String(cString: strerror(errno)))") }
            var pair: [Int32] = [-1, -1]
            guard pipe(&pair) == 0 else {
                _ = close(store)
                throw Agent.Failure("cannot make a pipe: \(String(cString: strerror(errno)))")
            }
            for end in pair {
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
                _ = fcntl(end, F_SETFL, O_NONBLOCK)
            }
            (arrivals, arrived) = (pair[0], pair[1])
            totalPages = fetch.totalPages
            state = Mutex(State(fetch: fetch))
            self.requestSize = requestSize
            (wantedStream, wanted) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
            (sentStream, sent) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        }

        deinit {
            _ = close(store)
            _ = close(arrivals)
            _ = close(arrived)
        }

        /// Why the job cannot get all its memory, or nil.
        var failure: String? { state.withLock { $0.failure } }
        /// Whether every page has arrived.
        var isComplete: Bool { state.withLock { $0.fetch.isComplete } }
        /// Bytes of pages arrived, and served to the daemon.
        var arrivedBytes: UInt64 { state.withLock { $0.fetch.arrivedPages } * Migration.Images.pageSize }
        var servedBytes: UInt64 { state.withLock { $0.served } }
        /// How the fetch went, for the journal.
        var summary: String {
            state.withLock { state in
                let arrived = state.fetch.arrivedPages * Migration.Images.pageSize
                var fetched = ""
                if let first = state.firstRequest, let done = state.completed {
                    let seconds = max((done - first).seconds, 0.001)
                    fetched = " in \(Agent.Migrator.milliseconds(seconds)) ms (\(Int(Double(arrived) / 1e6 / seconds)) MB/s)"
                }
                return "\(arrived >> 10) KiB of \(state.fetch.totalPages * Migration.Images.pageSize >> 10) KiB arrived" + fetched
                    + ", \(state.served >> 10) KiB served to the lazy-pages daemon, which waited for \(state.waits) requests, \(Agent.Migrator.milliseconds(state.waited.seconds)) ms in all"
            }
        }

        /// The pages stopped coming (or could not be served): a failure of the move while any is
        /// missing, else only logged by the caller.
        func fail(_ reason: String) {
            state.withLock { if $0.failure == nil && !$0.fetch.isComplete { $0.failure = reason } }
            signalArrival()
            wanted.yield()
            sent.yield()
        }

        /// The job runs: the rest of its memory is fetched ahead from now on.
        func fetchAhead() {
            state.withLock { $0.ahead = true }
            wanted.yield()
        }

        /// Frees the kept pages (the daemon has them all, or the job is gone).
        func discardStore() { _ = ftruncate(store, 0) }

        private func signalArrival() {
            var one: UInt8 = 1
            _ = write(arrived, &one, 1)
        }

        // MARK: The daemon's side

        /// Answers the lazy-pages daemon on `socket` (a duplicate of the agent's end of its
        /// ``PageSocket``, closed here) on a thread of its own, until it says it is done or
        /// anything fails (``fail(_:)``; the daemon's connection stays open: the caller kills
        /// the job before it may end).
        func serve(socket: Int32) {
            Processes.onThread { [self] in
                let failure = serveLoop(socket: socket)
                _ = close(socket)
                if let failure {
                    fail("serving the lazy-pages daemon: \(failure)")
                } else {
                    state.withLock { $0.serverEnded = true }
                }
                wanted.yield()
                sent.yield()
            }
        }

        /// nil when the daemon closed the protocol or ended (``State/daemonGone``), else why
        /// serving it failed.
        private func serveLoop(socket: Int32) -> String? {
            typealias PageRequest = Migration.Images.PageRequest
            while true {
                guard let bytes = Agent.Blocking.receive(socket, count: requestSize) else {
                    state.withLock { $0.daemonGone = true }
                    return nil
                }
                guard let request = PageRequest(bytes) else { return "a request of \(bytes.count) bytes" }
                switch request.command {
                case PageRequest.close, PageRequest.forceClose:
                    state.withLock { $0.daemonClosed = request.command }
                    wanted.yield()
                    var status: Int32 = 0
                    _ = withUnsafeBytes(of: &status) { Agent.Blocking.send(socket, $0) }
                    return nil
                case PageRequest.get:
                    break
                default:
                    return "an unknown request \(request.command)"
                }
                guard let place = state.withLock({ $0.fetch.place(request) }) else {
                    return "a request for \(request.pages) pages at \(Migration.Images.hex(request.vaddr)) of image \(request.image), which the dump did not leave lazy"
                }
                var runs = state.withLock { state -> [(storePage: UInt32, pages: UInt64)]? in
                    if let runs = state.fetch.kept(place) { return runs }
                    state.fetch.hurry(place)
                    return nil
                }
                let waitStarted = ContinuousClock.now
                if runs == nil { wanted.yield() }
                defer {
                    if runs != nil, ContinuousClock.now - waitStarted > .milliseconds(1) {
                        state.withLock {
                            $0.waits += 1
                            $0.waited += ContinuousClock.now - waitStarted
                        }
                    }
                }
                while runs == nil {
                    var pollfd = Glibc.pollfd(fd: arrivals, events: Int16(POLLIN), revents: 0)
                    if poll(&pollfd, 1, 200) > 0 {
                        var drained = [UInt8](repeating: 0, count: 256)
                        while read(arrivals, &drained, drained.count) > 0 {}
                    }
                    let (found, failure) = state.withLock { ($0.fetch.kept(place), $0.failure) }
                    if let failure { return failure }
                    runs = found
                }
                guard Agent.Blocking.send(socket, request.answer(pages: place.pages, size: requestSize)) else { return "the daemon's socket failed" }
                for run in runs! {
                    // From the file to the daemon's socket in the kernel: no copy through here.
                    var (offset, left) = (off_t(UInt64(run.storePage) * Migration.Images.pageSize), Int(run.pages * Migration.Images.pageSize))
                    while left > 0 {
                        let sent = sendfile(socket, store, &offset, left)
                        if sent < 0 && errno == EINTR { continue }
                        guard sent > 0 else {
                            return "cannot send the kept pages at \(offset): \(sent < 0 ? String(cString: strerror(errno)) : "the file ends there")"
                        }
                        left -= sent
                    }
                }
                state.withLock { $0.served += place.pages * Migration.Images.pageSize }
            }
        }

        // MARK: The source's side

        /// Fetches every page over `stream` (the page stream, relayed on the source into its
        /// criu), until the source's criu has answered the daemon's close and ended its
        /// direction. Throws when the stream breaks or an answer is not what was asked for
        /// (after ``fail(_:)``).
        func fetch(over stream: Agent.SecureStream) async throws {
            let shared = SharedStream(stream)
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.sendRequests(on: shared.stream) }
                    group.addTask { try await self.receiveAnswers(on: shared.stream) }
                    try await group.waitForAll()
                }
            } catch {
                fail("\(error)")
                throw error
            }
        }

        private enum Next {
            case send(Migration.Images.PageRequest)
            case close(UInt32)
            case wait
            case stop
        }

        private func sendRequests(on stream: Agent.SecureStream) async throws {
            var wakes = wantedStream.makeAsyncIterator()
            while true {
                let next = state.withLock { state -> Next in
                    if state.failure != nil || state.daemonGone { return .stop }
                    if let command = state.daemonClosed {
                        // Nothing more is needed: the answers in flight are awaited, then the
                        // source's criu is closed as the daemon closed ours.
                        return state.fetch.pagesInFlight == 0 ? .close(command) : .wait
                    }
                    let room = Self.windowPages - min(Self.windowPages, state.fetch.pagesInFlight)
                    if let request = state.fetch.nextRequest(maximumPages: min(room, Self.requestPages), ahead: state.ahead) {
                        if state.firstRequest == nil { state.firstRequest = .now }
                        return .send(request)
                    }
                    return .wait
                }
                switch next {
                case .send(let request):
                    try await stream.send(request.bytes(size: requestSize))
                    sent.yield()
                case .close(let command):
                    // Marked before it leaves: the status may come back before this task runs on.
                    state.withLock { $0.closing = true }
                    try await stream.send(Migration.Images.PageRequest(command: command, pages: 0, vaddr: 0, image: 0).bytes(size: requestSize))
                    sent.yield()
                    // Our direction ends: the source shuts its criu's input.
                    try await stream.send([])
                    return
                case .wait:
                    guard await wakes.next() != nil else { return }
                case .stop:
                    return
                }
            }
        }

        private func receiveAnswers(on stream: Agent.SecureStream) async throws {
            var wakes = sentStream.makeAsyncIterator()
            var header: [UInt8] = []
            var pending: (pages: UInt64, bytesLeft: Int, offset: off_t)?
            var status: [UInt8] = []
            while true {
                let (expecting, closing, stopped) = state.withLock { ($0.fetch.pagesInFlight > 0, $0.closing, $0.failure != nil || $0.daemonGone) }
                if stopped { return }
                // Nothing asked for: the source owes nothing, and its silence is not a failure.
                if !expecting && !closing && pending == nil && header.isEmpty {
                    guard await wakes.next() != nil else { return }
                    continue
                }
                var ended = false
                let got: Void? = try await stream.receive { bytes throws in
                    if bytes.isEmpty {
                        ended = true
                        return
                    }
                    var at = 0
                    while at < bytes.count {
                        if var answer = pending {
                            let length = min(answer.bytesLeft, bytes.count - at)
                            let written = pwrite(store, bytes.baseAddress! + at, length, answer.offset)
                            guard written > 0 else { throw Agent.Failure("cannot keep the pages that arrived: \(String(cString: strerror(errno)))") }
                            at += written
                            answer.bytesLeft -= written
                            answer.offset += off_t(written)
                            if answer.bytesLeft == 0 {
                                state.withLock {
                                    $0.fetch.arrived(pages: answer.pages)
                                    if $0.fetch.isComplete { $0.completed = .now }
                                }
                                pending = nil
                                signalArrival()
                                wanted.yield()
                            } else {
                                pending = answer
                            }
                        } else if state.withLock({ $0.closing && $0.fetch.pagesInFlight == 0 }) {
                            let length = min(4 - status.count, bytes.count - at)
                            status += bytes[at..<at + length]
                            at += length
                            guard status.count < 4 || at == bytes.count else { throw Agent.Failure("the source's criu sent more after its close") }
                        } else {
                            let length = min(requestSize - header.count, bytes.count - at)
                            header += bytes[at..<at + length]
                            at += length
                            guard header.count == requestSize else { continue }
                            guard let decoded = Migration.Images.PageRequest(header) else { throw Agent.Failure("an answer header of \(header.count) bytes") }
                            header = []
                            let (pages, stored) = try state.withLock { state throws -> (UInt64, UInt32) in
                                (try state.fetch.answered(decoded), state.fetch.storedPages)
                            }
                            pending = (pages, Int(pages * Migration.Images.pageSize), off_t(UInt64(stored) * Migration.Images.pageSize))
                        }
                    }
                }
                guard got != nil else { throw Agent.Failure("the source closed the page stream while pages were still asked for") }
                if ended {
                    // The source's criu ended its direction: after our close, that is its end.
                    guard state.withLock({ $0.closing }), status.count == 4, pending == nil, header.isEmpty else {
                        throw Agent.Failure("the source's criu stopped serving pages before the last had arrived")
                    }
                    return
                }
            }
        }

        private struct SharedStream: @unchecked Sendable {
            let stream: Agent.SecureStream
            init(_ stream: Agent.SecureStream) { self.stream = stream }
        }
    }
}
