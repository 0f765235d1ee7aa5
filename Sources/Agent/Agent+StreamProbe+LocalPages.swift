import Glibc
import Migration

extension Agent.StreamProbe {
    /// What the agent's page server answered, for `LocalPagesTests`.
    public struct LocalPagesAnswer: Sendable {
        /// Pages the plan left to the lazy-pages daemon.
        public var lazyPages: UInt64
        /// Each request's answer: the header's bytes and the pages that followed.
        public var answers: [(header: [UInt8], pages: [UInt8])]
        /// The 4-byte status after the daemon's `close`, if one was sent.
        public var closeStatus: [UInt8]?
        /// Why the server stopped, nil when the daemon closed properly.
        public var failure: String?
    }

    /// Plays criu's lazy-pages daemon against the agent's own page server
    /// (``Agent/Migrator/LocalPageServer``) on the images in `directory`, the final round of a
    /// pre-copy with its parents linked as `parent`: plans the lazy restore (nothing written),
    /// sends `requests` (each `size` bytes, criu's layout), reads each answer, then `close` if
    /// `close`. Blocking; the server runs on its own thread as in the agent.
    public static func localPages(
        directory: String, requests: [Migration.Images.PageRequest], size: Int, close: Bool
    ) throws -> LocalPagesAnswer {
        guard let plan = try Agent.Migrator.planLocalPages(directory: directory) else {
            throw Agent.Failure("no page of \(directory) would be lazy")
        }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw Agent.Failure("socketpair: \(String(cString: strerror(errno)))")
        }
        let daemon = pair[0]
        defer { _ = Glibc.close(daemon) }
        let server = Agent.Migrator.LocalPageServer(socket: pair[1], pages: plan, requestSize: size)
        func receive(_ count: Int) -> [UInt8]? { Agent.Blocking.receive(daemon, count: count) }
        func send(_ request: Migration.Images.PageRequest) -> Bool { Agent.Blocking.send(daemon, request.bytes(size: size)) }
        var result = LocalPagesAnswer(lazyPages: plan.lazyPages, answers: [], closeStatus: nil, failure: nil)
        for request in requests {
            guard send(request), let header = receive(size), let answer = Migration.Images.PageRequest(header),
                  let pages = receive(Int(answer.pages * Migration.Images.pageSize))
            else { break }
            result.answers.append((header, pages))
        }
        if close, send(.init(command: Migration.Images.PageRequest.forceClose, pages: 0, vaddr: 0, image: 0)) {
            result.closeStatus = receive(4)
        }
        _ = shutdown(daemon, Int32(SHUT_RDWR))
        let deadline = ContinuousClock.now + .seconds(10)
        while !server.hasEnded && ContinuousClock.now < deadline { usleep(10_000) }
        result.failure = server.hasEnded ? server.failure : "the server did not end"
        return result
    }
}
