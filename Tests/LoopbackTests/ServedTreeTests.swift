import BootServer
import Foundation
import LiveBuild
import Logging
import Testing
import TestSupport

/// What a head serves of its boot medium (``ServedTree``): the PXE tree's entries, read-only,
/// and nothing else, whatever the request. The medium here is a directory shaped like a
/// cluster ISO: the PXE tree, the ISO's own loaders, the cluster key's image, and a symbolic
/// link an attacker would like followed. The real HTTP server serves the view on loopback.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root: bind mounts"))
struct ServedTreeTests {
    @Test func theHeadServesThePXETreeAndNeverTheKey() async throws {
        let medium = try Self.scratch("medium")
        let view = try Self.scratch("view")
        defer {
            ServedTree.release(view: view)
            try? FileManager.default.removeItem(atPath: medium)
            try? FileManager.default.removeItem(atPath: view)
        }
        let files = [
            "boot.ipxe": "#!ipxe\n", "lpxelinux.0": "loader", "grub/grub.cfg": "menu", "live/vmlinuz": "kernel",
            "live/filesystem.squashfs": "hsqs", "isolinux/isolinux.cfg": "iso menu", ClusterKeyImage.path: "KEY-IMAGE-SECRET",
            "secret.txt": "SECRET",
        ]
        for (path, text) in files {
            let full = medium + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
        // An allowed name that is a link out of the medium: never followed.
        try FileManager.default.createSymbolicLink(atPath: medium + "/pxelinux.cfg", withDestinationPath: medium + "/livebuild")

        let served = try ServedTree.prepare(medium: medium, view: view)
        #expect(served == ["boot.ipxe", "lpxelinux.0", "grub", "live"], "\(served)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: view)) == Set(served))
        #expect(try String(contentsOfFile: view + "/live/vmlinuz", encoding: .utf8) == "kernel")
        // Read-only, the view and what it shows.
        #expect(!FileManager.default.createFile(atPath: view + "/planted", contents: Data()))
        #expect(!FileManager.default.createFile(atPath: view + "/live/planted", contents: Data()))
        // Again (a restarted server): the old view is detached, not stacked.
        #expect(try ServedTree.prepare(medium: medium, view: view) == served)

        let server = try await HTTPFileServer.bind(root: view, host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
        let port = try #require(server.localAddress?.port)
        let serving = Task { try await server.serve() }
        defer { serving.cancel() }
        let ipxe = try await Self.get("/boot.ipxe", port: port)
        #expect(ipxe.hasPrefix("HTTP/1.1 200"), "\(ipxe.prefix(80))")
        let squashfs = try await Self.get("/live/filesystem.squashfs", port: port)
        #expect(squashfs.hasPrefix("HTTP/1.1 200"), "\(squashfs.prefix(80))")
        for path in ["/" + ClusterKeyImage.path, "/livebuild/", "/secret.txt", "/isolinux/isolinux.cfg", "/pxelinux.cfg/cluster-key.img",
                     "/live/../livebuild/cluster-key.img", "/live/%2e%2e/livebuild/cluster-key.img", "/../medium/secret.txt"] {
            let answer = try await Self.get(path, port: port)
            #expect(!answer.hasPrefix("HTTP/1.1 200") && !answer.contains("SECRET"), "\(path): \(answer.prefix(80))")
        }

        ServedTree.release(view: view)
        #expect(try FileManager.default.contentsOfDirectory(atPath: view).isEmpty, "released: nothing mounted on \(view)")
    }

    static func scratch(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "/served-tree-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// One HTTP/1.1 GET on loopback; the whole answer as text. On a thread of its own: the
    /// blocking socket must not hold one of the few threads the server's tasks run on.
    static func get(_ path: String, port: Int) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try blockingGet(path, port: port) }) }.start()
        }
    }

    static func blockingGet(_ path: String, port: Int) throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: \(errno)") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect to 127.0.0.1:\(port): \(errno)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: head\r\nConnection: close\r\n\r\n".utf8)
        guard send(descriptor, request, request.count, 0) == request.count else { throw TestFailure("send: \(errno)") }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        // Until the headers and the Content-Length they give have arrived (the server may keep
        // the connection open).
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer[0..<count]
            let text = String(decoding: answer, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { continue }
            let length = text[..<end.lowerBound].split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if text.utf8.distance(from: end.upperBound, to: text.endIndex) >= length { break }
        }
        return String(decoding: answer, as: UTF8.self)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The head's list of what it serves matches what the build puts in a PXE tree, and never the
/// directory of the cluster key's image.
@Suite struct ServedTreeEntriesTests {
    @Test func theServedEntriesAreThePXETreesTopLevel() {
        let tree = Set((PxeStage.files + [PxeLayout.ipxeBIOS, PxeLayout.ipxeUEFI]).map { String($0.split(separator: "/")[0]) })
        #expect(Set(ServedTree.entries) == tree)
        #expect(!ServedTree.entries.contains(String(ClusterKeyImage.path.split(separator: "/")[0])))
    }
}
