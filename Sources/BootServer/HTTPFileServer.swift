import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NodeError

/// Serves a directory tree read-only over HTTP/1.1 (GET and HEAD), on SwiftNIO's HTTP codec:
/// what a PXE tree needs (kernel, initramfs and squashfs for iPXE, GRUB and the live init's
/// `fetch=`). No directory listings, no paths outside the root, no symlinks followed out of it.
public struct HTTPFileServer: Sendable {
    public let root: String
    public let logger: Logger
    let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>

    /// The address it listens on.
    public var localAddress: SocketAddress? { channel.channel.localAddress }

    /// Binds `host:port`; `serve()` answers requests.
    public static func bind(root: String, host: String, port: Int, logger: Logger) async throws -> HTTPFileServer {
        let resolved = (try? realPath(root)) ?? root
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: child)
                    }
                }
            return HTTPFileServer(root: resolved, logger: logger, channel: channel)
        } catch {
            throw BootServerError("cannot listen for HTTP on \(host):\(port): \(error); is another web server using the port?")
        }
    }

    /// Answers connections until the task is cancelled.
    public func serve() async throws {
        try await channel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in inbound {
                    group.addTask { await answer(connection) }
                }
            }
        }
    }

    private func answer(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let remote = connection.channel.remoteAddress?.description ?? "?"
        do {
            let channel = connection.channel
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var closing = false
                for try await part in inbound where !closing {
                    switch part {
                    case .head(let request): head = request
                    case .body: continue
                    case .end:
                        guard let request = head else { continue }
                        head = nil
                        if try await respond(to: request, outbound: outbound, remote: remote) { continue }
                        // Not keep-alive: let the client close once it has the body. Closing
                        // here would drop what NIO has not written to the socket yet (a
                        // squashfs arrived 11 MB short that way); 30 s later it is closed anyway.
                        closing = true
                        channel.eventLoop.scheduleTask(in: .seconds(30)) { channel.close(promise: nil) }
                    }
                }
            }
        } catch {
            logger.debug("HTTP connection from \(remote) ended: \(error)")
        }
    }

    /// Sends the answer to one request; whether the connection stays open.
    private func respond(
        to request: HTTPRequestHead, outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, remote: String
    ) async throws -> Bool {
        func status(_ code: HTTPResponseStatus, _ text: String) async throws {
            var headers = HTTPHeaders([("Content-Type", "text/plain"), ("Content-Length", String(text.utf8.count))])
            if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
            try await outbound.write(.head(HTTPResponseHead(version: request.version, status: code, headers: headers)))
            if request.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text)))) }
            try await outbound.write(.end(nil))
            logger.info("\(remote) \(request.method) \(request.uri) → \(code.code)")
        }
        let path: String
        switch Self.answer(method: request.method, uri: request.uri, root: root) {
        case .methodNotAllowed:
            try await status(.methodNotAllowed, "only GET and HEAD\n")
            return request.isKeepAlive
        case .notFound:
            try await status(.notFound, "not found\n")
            return request.isKeepAlive
        case .file(let resolved):
            path = resolved
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        var info = stat()
        guard descriptor >= 0 else {
            try await status(.notFound, "not found\n")
            return request.isKeepAlive
        }
        defer { close(descriptor) }
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            try await status(.notFound, "not found\n")
            return request.isKeepAlive
        }
        let size = Int(info.st_size)
        var headers = HTTPHeaders([("Content-Type", "application/octet-stream"), ("Content-Length", String(size))])
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers)))
        if request.method == .GET {
            var remaining = size
            var buffer = ByteBufferAllocator().buffer(capacity: Self.chunk)
            while remaining > 0 {
                buffer.clear()
                let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.chunk) { raw in
                    max(0, read(descriptor, raw.baseAddress, min(raw.count, remaining)))
                }
                guard got > 0 else { throw BootServerError("\(path) shrank while being sent") }
                try await outbound.write(.body(.byteBuffer(buffer)))
                remaining -= got
            }
        }
        try await outbound.write(.end(nil))
        logger.info("\(remote) \(request.method) \(request.uri) → 200 (\(size) bytes)")
        return request.isKeepAlive
    }

    static let chunk = 1 << 20

    /// What a request line asks of the server, decided before any file is opened: the part of
    /// request handling that reads the client's bytes, as a function (fuzzed by `make fuzz`).
    public enum Answer: Equatable, Sendable {
        /// Neither GET nor HEAD.
        case methodNotAllowed
        /// Outside the root, malformed, or absent.
        case notFound
        /// The file to send, a real path under the root (it may still not be a regular file).
        case file(String)
    }

    /// The answer to `method` `uri` for a tree at `root` (a real path, as ``bind`` resolves it).
    public static func answer(method: HTTPMethod, uri: String, root: String) -> Answer {
        guard method == .GET || method == .HEAD else { return .methodNotAllowed }
        guard let path = resolve(uri, under: root) else { return .notFound }
        return .file(path)
    }

    /// The file `uri` names under `root`, or nil when it would leave the root (`..`, a symlink
    /// pointing out) or is malformed. Query strings are ignored.
    static func resolve(_ uri: String, under root: String) -> String? {
        let path = String(uri.prefix { $0 != "?" && $0 != "#" })
        guard path.hasPrefix("/"), let decoded = percentDecoded(path) else { return nil }
        let components = decoded.split(separator: "/", omittingEmptySubsequences: true)
        guard !components.contains(where: { $0 == ".." || $0 == "." }), !decoded.contains("\0") else { return nil }
        let joined = root + "/" + components.joined(separator: "/")
        guard let real = try? realPath(joined), real == root || real.hasPrefix(root + "/") else { return nil }
        return real
    }

    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next(), let low = iterator.next(),
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func realPath(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else { throw BootServerError("\(path) does not exist") }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// A boot server failure, said in one sentence.
/// The boot server's errors: the node side's one error type.
public typealias BootServerError = NodeError
