import Agent
import ClusterWire
import Crypto
import Foundation
import Glibc
import Migration
import Testing

/// The agent-to-agent stream: handshake with the cluster key, per-direction frame ciphers.
@Suite struct WireStreamTests {
    static let key = Array(repeating: UInt8(7), count: 32)
    static let otherKey = Array(repeating: UInt8(8), count: 32)

    static func connect(clientKey: [UInt8] = key, serverKey: [UInt8] = key, cipher: Wire.Stream.Cipher = .chaChaPoly) throws -> (Wire.Stream.Session, Wire.Stream.Session) {
        let client = Wire.Stream.Client(keys: try Wire.Keys(clusterKey: clientKey), me: Wire.NodeID(1), cipher: cipher)
        var server = Wire.Stream.Server(keys: try Wire.Keys(clusterKey: serverKey), me: Wire.NodeID(2))
        let serverHello = try server.receive(clientHello: client.hello)
        let (finish, clientSession) = try client.receive(serverHello: serverHello)
        let serverSession = try server.receive(finish: finish)
        return (clientSession, serverSession)
    }

    static func split(_ frame: [UInt8]) -> ([UInt8], [UInt8]) {
        (Array(frame.prefix(Wire.Stream.headerSize)), Array(frame.dropFirst(Wire.Stream.headerSize)))
    }

    @Test(arguments: Wire.Stream.Cipher.allCases)
    func framesTravelBothWaysBetweenAuthenticatedPeers(cipher: Wire.Stream.Cipher) throws {
        var (client, server) = try Self.connect(cipher: cipher)
        #expect(client.peer == Wire.NodeID(2) && server.peer == Wire.NodeID(1))
        #expect(client.cipher == cipher && server.cipher == cipher, "the server takes the client's cipher")
        for payload in [[], Array("hello".utf8), Array(repeating: UInt8(0xAB), count: 100_000)] {
            let (header, body) = Self.split(try client.seal(payload))
            #expect(try Wire.Stream.Session.bodyLength(header: header) == body.count)
            #expect(try server.open(header: header, body: body) == payload)
            let (h2, b2) = Self.split(try server.seal(payload.reversed()))
            #expect(try client.open(header: h2, body: b2) == payload.reversed())
        }
    }

    @Test func theCipherIsTheClientsAndItsChoiceIsAuthenticated() throws {
        let keys = try Wire.Keys(clusterKey: Self.key)
        let client = Wire.Stream.Client(keys: keys, me: Wire.NodeID(1), cipher: .aesGCM)
        // A cipher byte this side does not know: not a stream it can speak.
        var unknown = client.hello
        unknown[unknown.count - 1] = 9
        var server = Wire.Stream.Server(keys: keys, me: Wire.NodeID(2))
        #expect(throws: Wire.Stream.Failure.notAStream) { try server.receive(clientHello: unknown) }
        // One in the middle who switches the cipher: the server's proof covers the hello it saw,
        // so the client refuses it.
        var switched = client.hello
        switched[switched.count - 1] = Wire.Stream.Cipher.chaChaPoly.rawValue
        var fooled = Wire.Stream.Server(keys: keys, me: Wire.NodeID(2))
        let serverHello = try fooled.receive(clientHello: switched)
        #expect(throws: Wire.Stream.Failure.authenticationFailed) { try client.receive(serverHello: serverHello) }
        // A frame sealed with one cipher does not open with the other.
        var (chachaClient, _) = try Self.connect(cipher: .chaChaPoly)
        var (_, gcmServer) = try Self.connect(cipher: .aesGCM)
        let (header, body) = Self.split(try chachaClient.seal(Array("x".utf8)))
        #expect(throws: Wire.Stream.Failure.badFrame) { try gcmServer.open(header: header, body: body) }
        #expect(Wire.Stream.Cipher.allCases.contains(Wire.Stream.Cipher.preferred))
    }

    @Test func aPeerWithAnotherKeyFailsTheHandshakeOnBothSides() throws {
        let client = Wire.Stream.Client(keys: try Wire.Keys(clusterKey: Self.otherKey), me: Wire.NodeID(1))
        var server = Wire.Stream.Server(keys: try Wire.Keys(clusterKey: Self.key), me: Wire.NodeID(2))
        let serverHello = try server.receive(clientHello: client.hello)
        #expect(throws: Wire.Stream.Failure.authenticationFailed) { try client.receive(serverHello: serverHello) }
        // An intruder that ignores the server's proof still cannot produce the finish.
        #expect(throws: Wire.Stream.Failure.authenticationFailed) { try server.receive(finish: Array(repeating: 0, count: 32)) }
    }

    @Test func aReplayedHandshakeFailsAgainstAFreshServerNonce() throws {
        let keys = try Wire.Keys(clusterKey: Self.key)
        let client = Wire.Stream.Client(keys: keys, me: Wire.NodeID(1))
        var first = Wire.Stream.Server(keys: keys, me: Wire.NodeID(2))
        let (finish, _) = try client.receive(serverHello: try first.receive(clientHello: client.hello))
        var second = Wire.Stream.Server(keys: keys, me: Wire.NodeID(2))
        _ = try second.receive(clientHello: client.hello)
        #expect(throws: Wire.Stream.Failure.authenticationFailed) { try second.receive(finish: finish) }
    }

    @Test func tamperedReorderedAndReplayedFramesAreRefused() throws {
        var (client, server) = try Self.connect()
        let one = Self.split(try client.seal(Array("one".utf8)))
        let two = Self.split(try client.seal(Array("two".utf8)))
        var flipped = one.1
        flipped[0] ^= 1
        #expect(throws: Wire.Stream.Failure.badFrame) { try server.open(header: one.0, body: flipped) }
        #expect(throws: Wire.Stream.Failure.badFrame) { try server.open(header: two.0, body: two.1) }  // out of order
        #expect(try server.open(header: one.0, body: one.1) == Array("one".utf8))
        #expect(throws: Wire.Stream.Failure.badFrame) { try server.open(header: one.0, body: one.1) }  // replayed
        #expect(try server.open(header: two.0, body: two.1) == Array("two".utf8))
        #expect(throws: Wire.Stream.Failure.notAStream) {
            var fresh = Wire.Stream.Server(keys: try Wire.Keys(clusterKey: Self.key), me: Wire.NodeID(2))
            _ = try fresh.receive(clientHello: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n....".utf8).prefix(44).map { $0 })
        }
        #expect(throws: Wire.Stream.Failure.frameTooLarge(Wire.Stream.maxPayload + 1)) {
            try client.seal(Array(repeating: 0, count: Wire.Stream.maxPayload + 1))
        }
    }
}

/// The agents' stream itself (`Agent.SecureStream` through `Agent.StreamProbe`) on loopback:
/// a file arrives whole, with each cipher, whatever its frames' split across TCP reads.
@Suite struct SecureStreamTests {
    @Test(arguments: Wire.Stream.Cipher.allCases)
    func aFileArrivesWhole(cipher: Wire.Stream.Cipher) async throws {
        let path = "/tmp/lb-stream-test-\(getpid())-\(cipher.rawValue)"
        defer { unlink(path) }
        // 3 MiB and an odd tail: whole frames and a short last one.
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(3 << 20) + 12_345).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == bytes.count)
        close(descriptor)
        let keys = try Wire.Keys(clusterKey: Array(repeating: 3, count: 32))
        let (_, digest) = try await Agent.StreamProbe.sendFile(path, keys: keys, cipher: cipher, digest: true)
        #expect(digest == Array(SHA256.hash(data: bytes)))
    }
}

/// A round's files as a migration sends them (`Agent.StreamProbe.files`): one run of bytes
/// over the agents' stream on loopback, a frame holding the end of one file and the start of
/// the next, each file written whole where the receiver puts it.
@Suite struct FileConcatenationTests {
    static func scratch(_ name: String) throws -> String {
        let path = "/tmp/lb-files-test-\(getpid())-\(name)"
        Migration.remove(path)
        #expect(Migration.makeDirectories(path))
        return path
    }

    static func write(_ bytes: [UInt8], to path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) } == bytes.count)
        close(descriptor)
    }

    @Test func filesOfEverySizeArriveWholeAndInOrder() async throws {
        let source = try Self.scratch("source"), target = try Self.scratch("target")
        defer { Migration.remove(source); Migration.remove(target) }
        // Empty files, files smaller than a frame, one across a frame's end, one of several
        // frames with an odd tail.
        var generator = SystemRandomNumberGenerator()
        let sizes = [0, 1, 4096, 0, (1 << 20) - 100, 300, (2 << 20) + 12_345, 7, 0]
        var contents: [[UInt8]] = []
        for (index, size) in sizes.enumerated() {
            contents.append((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
            Self.write(contents[index], to: source + "/\(index)")
        }
        let keys = try Wire.Keys(clusterKey: Array(repeating: 5, count: 32))
        let outcome = try await Agent.StreamProbe.files(
            sizes.indices.map { source + "/\($0)" }, announcing: sizes.map(UInt64.init), into: target, keys: keys)
        #expect(outcome.senderFailure == nil && outcome.receiverFailure == nil)
        #expect(outcome.completed == Array(sizes.indices), "each file is complete once, in order")
        for index in sizes.indices {
            let arrived = try Data(contentsOf: URL(fileURLWithPath: target + "/\(index)"))
            #expect(Array(arrived) == contents[index], "file \(index) arrived as it was")
        }
    }

    @Test func aFileShorterThanAnnouncedFailsBothSidesAndNoLaterFileCompletes() async throws {
        let source = try Self.scratch("short"), target = try Self.scratch("short-target")
        defer { Migration.remove(source); Migration.remove(target) }
        Self.write(Array(repeating: 1, count: 5000), to: source + "/0")
        Self.write(Array(repeating: 2, count: 100), to: source + "/1")
        Self.write(Array(repeating: 3, count: 10), to: source + "/2")
        let keys = try Wire.Keys(clusterKey: Array(repeating: 5, count: 32))
        let outcome = try await Agent.StreamProbe.files(
            [source + "/0", source + "/1", source + "/2"], announcing: [5000, 200, 10], into: target, keys: keys)
        #expect(outcome.senderFailure?.contains("shrank") == true)
        #expect(outcome.receiverFailure != nil)
        // The first frame would hold all three: the sender stops before it, at the short file.
        #expect(!outcome.completed.contains(1) && !outcome.completed.contains(2))
    }
}
