import ClusterWire

extension FuzzTargets {
    /// The two ends of the fuzzed streams: fixed ids and nonces, so seeds can be made for them.
    static let streamClientID = Wire.NodeID(0x5EED_000C)
    static let streamServerID = Wire.NodeID(0x5EED_000D)
    static let streamClientNonce = [UInt8](repeating: 0xC1, count: 32)
    static let streamServerNonce = [UInt8](repeating: 0x5E, count: 32)

    /// A handshake between the fixed client and server, as the agents make it.
    static func streamSessions(_ cipher: Wire.Stream.Cipher = .chaChaPoly) -> (client: Wire.Stream.Session, server: Wire.Stream.Session) {
        let client = Wire.Stream.Client(keys: keys, me: streamClientID, nonce: streamClientNonce, cipher: cipher)
        var server = Wire.Stream.Server(keys: keys, me: streamServerID, nonce: streamServerNonce)
        do {
            let serverHello = try server.receive(clientHello: client.hello)
            let (finish, clientSession) = try client.receive(serverHello: serverHello)
            return (clientSession, try server.receive(finish: finish))
        } catch {
            preconditionFailure("the fixed handshake failed: \(error)")
        }
    }

    /// The TCP port's decoders (``Wire/Stream``). The first byte picks what the rest is, modulo 3:
    /// - 0: a client hello and finish to the server (and a server hello to the client), then frames;
    /// - 1: frames (header and body) after a real handshake;
    /// - 2: payloads a real client seals, opened by the server, some of them tampered with;
    /// and the cipher of the client's own hello and of the real handshakes: ChaCha20-Poly1305
    /// when the byte divided by 3 is even, AES-256-GCM when odd.
    public static func stream(_ bytes: [UInt8]) {
        var input = Input(bytes)
        let selector = input.byte()
        let cipher: Wire.Stream.Cipher = (selector / 3) % 2 == 0 ? .chaChaPoly : .aesGCM
        switch selector % 3 {
        case 0:
            let client = Wire.Stream.Client(keys: keys, me: streamClientID, nonce: streamClientNonce, cipher: cipher)
            var server = Wire.Stream.Server(keys: keys, me: streamServerID, nonce: streamServerNonce)
            let hello = input.take(Wire.Stream.clientHelloSize)
            guard (try? server.receive(clientHello: hello)) != nil else { return }
            guard var session = try? server.receive(finish: input.take(Wire.Stream.finishSize)) else {
                _ = try? client.receive(serverHello: hello + input.rest())
                return
            }
            openFrames(&input, with: &session)
        case 1:
            var session = streamSessions(cipher).server
            openFrames(&input, with: &session)
        default:
            var (client, server) = streamSessions(cipher)
            while !input.isEmpty {
                let control = input.byte()
                let payload = input.take(Int(input.integer(UInt16.self) % 1024))
                guard let frame = try? client.seal(payload) else { preconditionFailure("a \(payload.count)-byte frame did not seal") }
                let header = Array(frame.prefix(Wire.Stream.headerSize))
                let body = Array(frame.dropFirst(Wire.Stream.headerSize))
                precondition((try? Wire.Stream.Session.bodyLength(header: header)) == body.count, "a frame's header is not its length")
                if control & 1 == 1 {
                    var tampered = frame
                    tampered[Int(control >> 1) % tampered.count] ^= 1 << (control & 7)
                    let opened = try? server.open(
                        header: Array(tampered.prefix(Wire.Stream.headerSize)), body: Array(tampered.dropFirst(Wire.Stream.headerSize)))
                    precondition(opened == nil, "a tampered frame opened")
                }
                precondition((try? server.open(header: header, body: body)) == payload, "a frame did not open to its payload")
            }
        }
    }

    /// Opens frames as the peer server reads them: a 4-byte header, then the body it announces
    /// (or what is left), until one fails.
    private static func openFrames(_ input: inout Input, with session: inout Wire.Stream.Session) {
        while !input.isEmpty {
            let header = input.take(Wire.Stream.headerSize)
            guard let length = try? Wire.Stream.Session.bodyLength(header: header) else { return }
            guard (try? session.open(header: header, body: input.take(length))) != nil else { return }
        }
    }
}
