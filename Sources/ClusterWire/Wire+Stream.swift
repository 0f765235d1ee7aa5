import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Wire {
    /// Authenticated, encrypted byte streams between agents (TCP on the agent's port), for what
    /// does not fit a datagram: remote job requests and, for migration, checkpoint images.
    ///
    /// Handshake (both sides prove they hold the cluster key; nothing secret is sent):
    /// ```
    /// client → server  ClientHello  "LBS2" | client id (8) | client nonce (32) | cipher (1)
    /// server → client  ServerHello  "LBS2" | server id (8) | server nonce (32) | HMAC(auth, "server" | ClientHello | first 44 bytes of ServerHello)
    /// client → server  Finish       HMAC(auth, "client" | ClientHello | ServerHello)
    /// ```
    /// The client names the AEAD cipher (``Cipher``): the one this CPU runs faster, measured once
    /// (``Cipher/preferred``); the server takes either, and its proof covers the choice.
    /// `auth` is the cluster key's stream-handshake subkey. Each direction then gets its own
    /// 256-bit key, HKDF(stream-session subkey, salt: both nonces, info: direction and
    /// both ids), so keys are fresh per connection and a recorded handshake replayed later
    /// fails (the server's nonce differs). Frames are `length (u32, big endian) | ciphertext |
    /// tag`, the length authenticated as associated data; the nonce is a per-direction counter,
    /// so a dropped, reordered or replayed frame fails to open and ends the connection.
    public enum Stream {
        static let magic = Array("LBS2".utf8)
        static let nonceSize = 32
        static let helloSize = 4 + 8 + nonceSize
        static let macSize = 32
        /// Largest payload of one frame: a 1 MiB chunk of a checkpoint image and its framing fit.
        /// Every stream holds at most one frame at a time, so this bounds a stream's memory
        /// (Docs/security.md, "Bounded resources"); it was 4 MiB.
        public static let maxPayload = (1 << 20) + (64 << 10)
        /// Bytes before every frame's ciphertext.
        public static let headerSize = 4
        public static let tagSize = 16

        public static let clientHelloSize = helloSize + 1
        public static let serverHelloSize = helloSize + macSize
        public static let finishSize = macSize

        /// Why a stream was closed.
        public enum Failure: Error, Hashable, Sendable {
            /// Not a livebuild stream (wrong magic) or too short.
            case notAStream
            /// The peer does not hold the cluster key (or the handshake was tampered with).
            case authenticationFailed
            /// A frame that does not open: tampered, reordered, replayed or truncated.
            case badFrame
            /// A frame longer than ``maxPayload``.
            case frameTooLarge(Int)
        }

        /// The AEAD that seals a stream's frames, both directions. Both are 256-bit, with a
        /// 96-bit nonce (the frame counter) and a 128-bit tag.
        public enum Cipher: UInt8, Sendable, CaseIterable, CustomStringConvertible {
            case chaChaPoly = 1
            case aesGCM = 2

            public var description: String {
                switch self {
                case .chaChaPoly: "ChaCha20-Poly1305"
                case .aesGCM: "AES-256-GCM"
                }
            }

            /// The cipher this CPU seals faster, timed once per process on 256 KiB (best of three
            /// each): AES-GCM where the CPU has AES and carry-less multiply instructions (about
            /// 4× ChaCha20-Poly1305 on this project's hosts), ChaCha20-Poly1305 where it has
            /// not, or where they are emulated (a TCG guest: 1.5× AES-GCM). Docs/benchmarks.md,
            /// "The agents' stream".
            public static let preferred: Cipher = {
                let key = SymmetricKey(size: .bits256)
                let block = [UInt8](repeating: 0x5a, count: 256 << 10)
                let nonce = [UInt8](repeating: 0, count: 12)
                let clock = ContinuousClock()
                func best(_ seal: () throws -> Void) -> Duration {
                    (0..<3).map { _ in
                        let started = clock.now
                        try? seal()
                        return clock.now - started
                    }.min() ?? .zero
                }
                let chacha = best { _ = try ChaChaPoly.seal(block, using: key, nonce: try ChaChaPoly.Nonce(data: nonce)) }
                let gcm = best { _ = try AES.GCM.seal(block, using: key, nonce: try AES.GCM.Nonce(data: nonce)) }
                return gcm < chacha ? .aesGCM : .chaChaPoly
            }()
        }

        /// The client's side of the handshake.
        public struct Client: Sendable {
            let authBytes: [UInt8]
            let sessionBytes: [UInt8]
            public let me: NodeID
            public let cipher: Cipher
            public let hello: [UInt8]

            public init(keys: Keys, me: NodeID, nonce: [UInt8] = Stream.randomNonce(), cipher: Cipher = .preferred) {
                authBytes = keys.streamAuthBytes
                sessionBytes = keys.streamSessionBytes
                self.me = me
                self.cipher = cipher
                hello = magic + Stream.bytes(me.rawValue) + nonce + [cipher.rawValue]
            }

            /// Checks the server's hello; returns the finish message to send and the session.
            public func receive(serverHello: [UInt8]) throws(Failure) -> (finish: [UInt8], session: Session) {
                guard serverHello.count == serverHelloSize, Array(serverHello.prefix(4)) == magic else { throw .notAStream }
                let body = Array(serverHello.prefix(helloSize))
                let mac = Array(serverHello.suffix(macSize))
                guard Stream.verify(mac, key: authBytes, message: Array("server".utf8) + hello + body) else {
                    throw .authenticationFailed
                }
                let server = NodeID(Stream.integer(body[4..<12]))
                let finish = Stream.mac(key: authBytes, message: Array("client".utf8) + hello + serverHello)
                let session = Session(
                    peer: server, sessionBytes: sessionBytes, clientHello: hello, serverHello: body, isClient: true, cipher: cipher)
                return (finish, session)
            }
        }

        /// The server's side of the handshake.
        public struct Server: Sendable {
            let authBytes: [UInt8]
            let sessionBytes: [UInt8]
            public let me: NodeID
            let nonce: [UInt8]
            var clientHello: [UInt8] = []
            var sent: [UInt8] = []

            public init(keys: Keys, me: NodeID, nonce: [UInt8] = Stream.randomNonce()) {
                authBytes = keys.streamAuthBytes
                sessionBytes = keys.streamSessionBytes
                self.me = me
                self.nonce = nonce
            }

            /// Takes the client's hello; returns the server hello to send.
            public mutating func receive(clientHello hello: [UInt8]) throws(Failure) -> [UInt8] {
                guard hello.count == clientHelloSize, Array(hello.prefix(4)) == magic, Cipher(rawValue: hello[helloSize]) != nil else { throw .notAStream }
                clientHello = hello
                let body = magic + Stream.bytes(me.rawValue) + nonce
                sent = body + Stream.mac(key: authBytes, message: Array("server".utf8) + hello + body)
                return sent
            }

            /// Checks the client's finish; only then does the stream carry anything.
            public func receive(finish: [UInt8]) throws(Failure) -> Session {
                guard !sent.isEmpty, finish.count == macSize,
                      Stream.verify(finish, key: authBytes, message: Array("client".utf8) + clientHello + sent) else {
                    throw .authenticationFailed
                }
                return Session(
                    peer: NodeID(Stream.integer(clientHello[4..<12])), sessionBytes: sessionBytes,
                    clientHello: clientHello, serverHello: Array(sent.prefix(helloSize)), isClient: false,
                    cipher: Cipher(rawValue: clientHello[helloSize]) ?? .chaChaPoly)
            }
        }

        /// An established stream: the authenticated peer and one cipher per direction.
        public struct Session: Sendable {
            /// The node on the other end (proved by the handshake to hold the cluster key).
            public let peer: NodeID
            /// What seals the frames, as the client chose.
            public let cipher: Cipher
            let sendKey: SymmetricKey
            let receiveKey: SymmetricKey
            var sendCounter: UInt64 = 0
            var receiveCounter: UInt64 = 0

            init(peer: NodeID, sessionBytes: [UInt8], clientHello: [UInt8], serverHello: [UInt8], isClient: Bool, cipher: Cipher) {
                self.peer = peer
                self.cipher = cipher
                let salt = Array(clientHello[12..<helloSize]) + Array(serverHello[12..<helloSize])
                // The cipher enters the keys too: a key never serves both ciphers.
                let ids = Array(clientHello[4..<12]) + Array(serverHello[4..<12]) + [cipher.rawValue]
                let toServer = Stream.derive(sessionBytes, salt: salt, info: Array("client to server".utf8) + ids)
                let toClient = Stream.derive(sessionBytes, salt: salt, info: Array("server to client".utf8) + ids)
                sendKey = SymmetricKey(data: isClient ? toServer : toClient)
                receiveKey = SymmetricKey(data: isClient ? toClient : toServer)
            }

            /// One frame carrying `payload`.
            public mutating func seal(_ payload: [UInt8]) throws(Failure) -> [UInt8] {
                let (header, ciphertext, tag) = try seal(parts: payload)
                return header + Array(ciphertext) + Array(tag)
            }

            /// One frame carrying `payload`, in its three parts (`header | ciphertext | tag` on
            /// the wire), so a caller can write them into its own buffer with one copy.
            public mutating func seal(parts payload: some DataProtocol) throws(Failure) -> (header: [UInt8], ciphertext: Data, tag: Data) {
                guard payload.count <= maxPayload else { throw .frameTooLarge(payload.count) }
                let header = Stream.bytes(UInt32(payload.count + tagSize))
                let nonce = Stream.counterNonce(sendCounter)
                sendCounter += 1
                do {
                    switch cipher {
                    case .chaChaPoly:
                        let box = try ChaChaPoly.seal(payload, using: sendKey, nonce: try ChaChaPoly.Nonce(data: nonce), authenticating: header)
                        return (header, box.ciphertext, box.tag)
                    case .aesGCM:
                        let box = try AES.GCM.seal(payload, using: sendKey, nonce: try AES.GCM.Nonce(data: nonce), authenticating: header)
                        return (header, box.ciphertext, box.tag)
                    }
                } catch {
                    throw .badFrame
                }
            }

            /// The length of the frame body that follows a 4-byte header.
            public static func bodyLength(header: [UInt8]) throws(Failure) -> Int {
                guard header.count == headerSize else { throw .badFrame }
                let length = Int(Stream.integer(header[...]))
                guard length >= tagSize else { throw .badFrame }
                guard length - tagSize <= maxPayload else { throw .frameTooLarge(length - tagSize) }
                return length
            }

            /// Opens the next frame (header and body as received).
            public mutating func open(header: [UInt8], body: [UInt8]) throws(Failure) -> [UInt8] {
                Array(try open(header: header, frameBody: body))
            }

            /// Opens the next frame from its body in place (ciphertext then tag), without a copy
            /// of the body first.
            public mutating func open(header: [UInt8], frameBody body: some DataProtocol) throws(Failure) -> Data {
                guard body.count >= tagSize else { throw .badFrame }
                let nonce = Stream.counterNonce(receiveCounter)
                do {
                    let ciphertext = body.prefix(body.count - tagSize), tag = body.suffix(tagSize)
                    let payload: Data
                    switch cipher {
                    case .chaChaPoly:
                        let box = try ChaChaPoly.SealedBox(nonce: try ChaChaPoly.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                        payload = try ChaChaPoly.open(box, using: receiveKey, authenticating: header)
                    case .aesGCM:
                        let box = try AES.GCM.SealedBox(nonce: try AES.GCM.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                        payload = try AES.GCM.open(box, using: receiveKey, authenticating: header)
                    }
                    receiveCounter += 1
                    return payload
                } catch {
                    throw .badFrame
                }
            }
        }

        public static func randomNonce() -> [UInt8] {
            var generator = SystemRandomNumberGenerator()
            return (0..<nonceSize).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }

        static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
        }

        static func verify(_ mac: [UInt8], key: [UInt8], message: [UInt8]) -> Bool {
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: SymmetricKey(data: key))
        }

        static func derive(_ key: [UInt8], salt: [UInt8], info: [UInt8]) -> [UInt8] {
            HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: key), salt: salt, info: info, outputByteCount: 32)
                .withUnsafeBytes { Array($0) }
        }

        static func counterNonce(_ counter: UInt64) -> [UInt8] {
            [0, 0, 0, 0] + bytes(counter)
        }

        static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
            (0..<(T.bitWidth / 8)).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
        }

        static func integer(_ bytes: ArraySlice<UInt8>) -> UInt64 {
            bytes.reduce(0) { $0 << 8 | UInt64($1) }
        }
    }
}
