import Crypto

extension Wire {
    /// Opens incoming datagrams: checks the header, the replay window, the AEAD tag, then decodes.
    ///
    /// Holds one ``Wire/ReplayWindow`` per sender. The window moves only for datagrams that
    /// authenticated, so forgeries cannot push a sender's window ahead and lock it out.
    public struct Opener: Sendable {
        private let keyBytes: [UInt8]
        /// The replay window of every sender heard from.
        public private(set) var windows: [NodeID: ReplayWindow] = [:]

        /// Creates an opener for datagrams sealed under `keys`.
        public init(keys: Keys) {
            self.keyBytes = keys.datagramBytes
        }

        /// Opens one datagram.
        public mutating func open(_ datagram: [UInt8]) -> Opened {
            guard datagram.count >= Envelope.headerSize + Envelope.tagSize else {
                return .rejected(.truncated)
            }
            var reader = ByteReader(datagram)
            guard let magic = try? reader.read(count: 3, field: "magic"), magic == Envelope.magic,
                  let version = try? reader.read(UInt8.self, field: "version"),
                  let senderBits = try? reader.read(UInt64.self, field: "sender"),
                  let sequence = try? reader.read(UInt64.self, field: "sequence"),
                  let nonceBytes = try? reader.read(count: 12, field: "nonce")
            else {
                return .rejected(.truncated)
            }
            guard version == Envelope.version else { return .rejected(.unknownVersion) }
            let sender = NodeID(senderBits)
            let window = windows[sender] ?? ReplayWindow()
            switch window.verdict(for: sequence) {
            case .replayed: return .rejected(.replayed)
            case .tooOld: return .rejected(.tooOld)
            case .fresh: break
            }
            let sealed = reader.readRest()
            let plaintext: [UInt8]
            do {
                let box = try ChaChaPoly.SealedBox(
                    nonce: ChaChaPoly.Nonce(data: nonceBytes),
                    ciphertext: sealed.dropLast(Envelope.tagSize),
                    tag: sealed.suffix(Envelope.tagSize)
                )
                plaintext = Array(try ChaChaPoly.open(
                    box, using: SymmetricKey(data: keyBytes), authenticating: datagram.prefix(Envelope.headerSize)
                ))
            } catch {
                return .rejected(.authenticationFailed)
            }
            var updated = window
            updated.accept(sequence)
            windows[sender] = updated
            do {
                let message = try Message.decode(plaintext)
                return .ok(sender: sender, sequence: sequence, message: message)
            } catch {
                return .rejected(.malformed, detail: error)
            }
        }
    }
}
