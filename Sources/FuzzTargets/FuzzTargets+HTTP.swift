import Glibc
import BootServer
import NIOCore
import NIOEmbedded
import NIOHTTP1

extension FuzzTargets {
    /// The boot server's HTTP request handling without a socket: the bytes go through the same
    /// pipeline as a connection's (`configureHTTPServerPipeline`) in an `EmbeddedChannel`, and
    /// every request head that comes out is answered by ``HTTPFileServer/answer(method:uri:root:)``
    /// against a small tree (with a symbolic link pointing out of it). The bytes are also tried
    /// as a URI on their own.
    public static func http(_ bytes: [UInt8]) {
        let root = httpRoot
        check(HTTPFileServer.answer(method: .GET, uri: String(decoding: bytes, as: UTF8.self), root: root), root: root)

        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        do {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        } catch {
            // A malformed request: the pipeline answers 400 and closes, as on a socket.
        }
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head(let head) = part {
                check(HTTPFileServer.answer(method: head.method, uri: head.uri, root: root), root: root)
            }
        }
    }

    /// What the server may send: only files under the root.
    private static func check(_ answer: HTTPFileServer.Answer, root: String) {
        if case .file(let path) = answer {
            precondition(path == root || path.utf8.starts(with: (root + "/").utf8), "\(path) is outside \(root)")
        }
    }

    /// A tree like a PXE tree's, made once per process: `live/vmlinuz`, and `out`, a symbolic
    /// link to `/etc` that must never be followed.
    static let httpRoot: String = {
        let base = "/tmp/livebuild-fuzz-http-\(getuid())"
        for directory in [base, base + "/tree", base + "/tree/live"] { mkdir(directory, 0o755) }
        let file = open(base + "/tree/live/vmlinuz", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if file >= 0 { close(file) }
        symlink("/etc", base + "/tree/out")
        guard let real = realpath(base + "/tree", nil) else { preconditionFailure("cannot make \(base)/tree") }
        defer { free(real) }
        return String(cString: real)
    }()
}
