#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Jobs
import Migration
import Processes
import Synchronization

extension Agent.Migrator {
    /// A lazy restore from the images this node received (Docs/migration.md, "Lazy restore
    /// from the destination's images"): after pre-copy every page of the job is here already,
    /// and restoring them all before the job runs is what made the down time grow with the
    /// job. Instead the final dump's page maps are rewritten so that the job's private anonymous
    /// memory is lazy (``Migration/Images/lazy(_:areas:stackPages:)``), `criu restore
    /// --lazy-pages` creates the job without it, and `criu lazy-pages` fills it in from here
    /// while the job runs, asking this agent for each range over CRIU's page-server protocol
    /// on a socket pair (CRIU's own daemon cannot read pages of a parent image lazily: its read
    /// of one never completes, criu 4.1).
    struct LocalPages: Sendable {
        /// Each process's chain of page maps, by image id.
        let chains: [UInt64: Migration.Images.Chain]
        /// Each process's pages files, level by level, as the chain's levels.
        let files: [UInt64: [String]]
        /// How many pages the restore leaves to the daemon.
        let lazyPages: UInt64
        /// The final dump's page maps with their lazy pages marked, by path.
        let rewritten: [(path: String, bytes: [UInt8])]

        /// Writes the rewritten page maps over CRIU's. After this the images can only be
        /// restored lazily: a lazy page of the parent is no longer marked as in the parent.
        func writePagemaps() throws {
            for (path, bytes) in rewritten {
                guard FileManager.default.createFile(atPath: path + ".lazy", contents: Data(bytes)), rename(path + ".lazy", path) == 0 else {
                    throw Agent.Failure("cannot rewrite \(path)")
                }
            }
        }
    }

    /// Plans the lazy restore of the images in `directory` (the final round, its parents
    /// linked as `parent`); nil, with the reason logged, where the images do not allow it (the
    /// restore is then the ordinary one). Nothing is written yet (``LocalPages/writePagemaps()``).
    func prepareLocalPages(directory: String, job id: String) -> LocalPages? {
        do {
            return try Self.planLocalPages(directory: directory)
        } catch {
            logger.notice("job \(id): restoring every page before it runs (\(error))")
            return nil
        }
    }

    /// ``prepareLocalPages(directory:job:)``'s plan: nil when no page would be lazy, and
    /// throws why the images do not allow a lazy restore.
    static func planLocalPages(directory: String) throws -> LocalPages? {
        typealias Images = Migration.Images
        func read(_ path: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else { throw Images.Malformed("cannot read \(path)") }
            return Array(data)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        var stackPages: Set<UInt64> = []
        for name in names where name.hasPrefix("core-") && name.hasSuffix(".img") {
            guard let sp = try Images.stackPointer(core: try read(directory + "/" + name)) else {
                throw Images.Malformed("\(name) is not an x86-64 thread's")
            }
            stackPages.insert(sp & ~(Images.pageSize - 1))
        }
        var chains: [UInt64: Images.Chain] = [:]
        var files: [UInt64: [String]] = [:]
        var rewritten: [(path: String, bytes: [UInt8])] = []
        var lazyPages: UInt64 = 0
        for name in names where name.hasPrefix("pagemap-") && name.hasSuffix(".img") && !name.hasPrefix("pagemap-shmem-") {
            guard let image = UInt64(name.dropFirst("pagemap-".count).dropLast(".img".count)) else { continue }
            let final = try Images.Pagemap(bytes: try read(directory + "/" + name))
            guard final.entries.allSatisfy({ $0.flags & (Images.present | Images.inParent) != 0 }) else {
                throw Images.Malformed("\(name) has pages in neither this image nor its parent")
            }
            // The parent levels, as far as the final dump's holes reach.
            var levels = [final]
            var paths = [directory + "/pages-\(final.pagesID).img"]
            var level = directory
            while access(level + "/parent/" + name, R_OK) == 0, levels.count <= Migration.Intake.maxRound {
                level += "/parent"
                let pagemap = try Images.Pagemap(bytes: try read(level + "/" + name))
                levels.append(pagemap)
                paths.append(level + "/pages-\(pagemap.pagesID).img")
            }
            // Each level's pages file holds exactly its present pages, in order.
            for (pagemap, path) in zip(levels, paths) {
                var info = stat()
                let present = pagemap.entries.filter { $0.flags & Images.present != 0 }.reduce(UInt64(0)) { $0 + $1.pages }
                guard stat(path, &info) == 0, UInt64(info.st_size) == present * Images.pageSize else {
                    throw Images.Malformed("\(path) does not hold the \(present) pages its page map lists")
                }
            }
            let chain = Images.Chain(levels: levels)
            let areas = try Images.areas(mm: try read(directory + "/mm-\(image).img"))
            let (lazy, count) = Images.lazy(final, areas: areas, stackPages: stackPages)
            for entry in lazy.entries where entry.flags & Images.lazy != 0 {
                guard chain.pieces(from: entry.vaddr, pages: entry.pages).reduce(0, { $0 + $1.pages }) == entry.pages else {
                    throw Images.Malformed("pages at \(Images.hex(entry.vaddr)) of \(name) are in no image here")
                }
            }
            chains[image] = chain
            files[image] = paths
            rewritten.append((directory + "/" + name, lazy.bytes))
            lazyPages += count
        }
        guard lazyPages > 0 else { return nil }
        return LocalPages(chains: chains, files: files, lazyPages: lazyPages, rewritten: rewritten)
    }

    /// Answers the lazy-pages daemon's requests on `socket` (a duplicate of the agent's end of
    /// its ``PageSocket``, closed here) from `pages`, on a thread of its own, until the daemon
    /// says it is done (then ``failure`` is nil) or anything fails.
    final class LocalPageServer: Sendable {
        private struct State {
            var ended = false
            var failure: String?
            var bytes: UInt64 = 0
        }
        private let state = Mutex(State())

        /// Whether the server has stopped.
        var hasEnded: Bool { state.withLock { $0.ended } }
        /// Why it stopped before the daemon said it was done, or nil.
        var failure: String? { state.withLock { $0.failure } }
        /// Bytes of pages served.
        var bytes: UInt64 { state.withLock { $0.bytes } }

        init(socket: Int32, pages: LocalPages, requestSize: Int) {
            Processes.onThread { [self] in
                let failure = Self.serve(socket: socket, pages: pages, requestSize: requestSize) { count in
                    self.state.withLock { $0.bytes += count }
                }
                _ = close(socket)
                self.state.withLock {
                    $0.failure = failure
                    $0.ended = true
                }
            }
        }

        /// The protocol's loop: nil when the daemon closed it properly, else why not.
        private static func serve(socket: Int32, pages: LocalPages, requestSize: Int, served: (UInt64) -> Void) -> String? {
            var files: [String: Int32] = [:]
            defer { files.values.forEach { _ = close($0) } }
            var buffer = [UInt8](repeating: 0, count: Agent.Migrator.chunk)
            while true {
                guard let bytes = Agent.Blocking.receive(socket, count: requestSize) else { return "the lazy-pages daemon ended without saying it was done" }
                guard let request = Migration.Images.PageRequest(bytes) else { return "a request of \(bytes.count) bytes" }
                switch request.command {
                case Migration.Images.PageRequest.close, Migration.Images.PageRequest.forceClose:
                    var status: Int32 = 0
                    _ = withUnsafeBytes(of: &status) { Agent.Blocking.send(socket, $0) }
                    return nil
                case Migration.Images.PageRequest.get:
                    break
                default:
                    return "an unknown request \(request.command)"
                }
                guard let chain = pages.chains[request.image], let paths = pages.files[request.image],
                      request.pages > 0, request.pages <= 1 << 18
                else { return "a request for \(request.pages) pages of image \(request.image)" }
                let pieces = chain.pieces(from: request.vaddr, pages: request.pages)
                let count = pieces.reduce(0) { $0 + $1.pages }
                guard count > 0 else { return "a request for pages at \(Migration.Images.hex(request.vaddr)) that are in no image here" }
                guard Agent.Blocking.send(socket, request.answer(pages: count, size: requestSize)) else { return "the daemon's socket failed" }
                for piece in pieces {
                    let path = paths[piece.level]
                    let file: Int32
                    if let open = files[path] {
                        file = open
                    } else {
                        file = open(path, O_RDONLY | O_CLOEXEC)
                        guard file >= 0 else { return "cannot open \(path): \(String(cString: strerror(errno)))" }
                        files[path] = file
                    }
                    var (offset, left) = (off_t(piece.offset), Int(piece.pages * Migration.Images.pageSize))
                    while left > 0 {
                        let length = min(left, buffer.count)
                        let got = buffer.withUnsafeMutableBytes { pread(file, $0.baseAddress, length, offset) }
                        guard got > 0 else { return "cannot read \(path) at \(offset): \(got < 0 ? String(cString: strerror(errno)) : "it ends there")" }
                        guard buffer.withUnsafeBytes({ Agent.Blocking.send(socket, UnsafeRawBufferPointer(rebasing: $0[..<got])) }) else {
                            return "the daemon's socket failed"
                        }
                        offset += off_t(got)
                        left -= got
                    }
                }
                served(count * Migration.Images.pageSize)
            }
        }
    }

    /// A lazy restore from the images here, after `commit`, with job `id` running (its init
    /// `pid`): the query answers wait (``Jobs/Supervisor/setPulling(_:_:)``) until the daemon
    /// has filled in every page. Then `machine` learns it, the daemon's socket is released,
    /// and the result is nil. Otherwise the job is killed first and only then the daemon (a
    /// page the job lacks would read as zeros once the daemon's userfaultfd is gone), and the
    /// result says why.
    ///
    /// A job that ended here meanwhile (it finished, or was killed) counts as filled in: its
    /// end stands, as in post-copy's ``pull(_:pid:pages:slot:directory:machine:on:)``, rather
    /// than the source running its tail a second time.
    func fillIn(
        _ id: String, pid: Int32, daemon: PageServing, server: LocalPageServer, directory: String, machine: inout Migration.Destination
    ) async -> String? {
        await jobs.setPulling(id, true)
        let failure = await fillFailure(daemon: daemon, server: server, directory: directory)
        if let failure, !Jobs.Usage.processes(sharingNamespaceOf: pid).isEmpty {
            logger.warning("job \(id): its memory could not be filled in (\(failure)); the copy here is killed")
            await discardPulled(id, pid: machine.pullFailed())
        } else {
            machine.pagesArrived()
            daemon.socket.release()
        }
        await jobs.setPulling(id, false)
        return machine.phase == .discarded ? failure : nil
    }

    private func fillFailure(daemon: PageServing, server: LocalPageServer, directory: String) async -> String? {
        // A server that fails leaves the daemon waiting: the job must go before the daemon
        // sees its connection end (the caller kills both).
        while !daemon.hasEnded && !(server.hasEnded && server.failure != nil) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if let failure = server.failure, !daemon.hasEnded { return "serving its pages: \(failure)" }
        let exit = await daemon.exited()
        let deadline = ContinuousClock.now + .seconds(5)
        while !server.hasEnded && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        guard server.hasEnded else { return "its page server did not end with the daemon" }
        if exit == .exited(0), server.failure == nil { return nil }
        let log = (try? String(contentsOfFile: directory + "/lazy-pages.log", encoding: .utf8)) ?? ""
        let daemonFailure = exit == .exited(0) ? nil : Migration.CRIU.Failure(step: "lazy-pages", exit: "\(exit)", log: log).description
        return [server.failure.map { "serving its pages: \($0)" }, daemonFailure].compactMap { $0 }.joined(separator: "; ")
    }
}
