import Crypto

extension Wire {
    /// Opens incoming datagrams for one node: checks the header, the recipient, the replay
    /// window, the AEAD tag, then decodes.
    ///
    /// Holds one ``Wire/ReplayWindow`` per (sender, session) in bounded ``Wire/SessionWindows``.
    /// A window moves only for datagrams that authenticated, so forgeries cannot push a sender's
    /// window ahead and lock it out; a key holder cannot push it more than
    /// ``Wire/ReplayWindow/maxJump`` per datagram, and the sender heals even that by starting a
    /// new session (see ``Wire/Sealer/startSession(_:)``).
    public struct Opener: Sendable {
        private let keyBytes: [UInt8]
        /// The node this opener opens datagrams for: datagrams addressed to another node are
        /// refused, so one recorded between two members cannot be replayed to a third.
        public let recipient: NodeID
        /// The replay windows of every (sender, session) heard from.
        public private(set) var windows = SessionWindows()

        /// Creates an opener for datagrams sealed under `keys` and addressed to `recipient`
        /// (or to ``NodeID/anyRecipient``, for joins).
        public init(keys: Keys, recipient: NodeID) {
            self.keyBytes = keys.datagramBytes
            self.recipient = recipient
        }

        /// Opens one datagram.
        public mutating func open(_ datagram: [UInt8]) -> Opened {
            guard datagram.count >= Envelope.headerSize + Envelope.tagSize else {
                return .rejected(.truncated)
            }
            var reader = ByteReader(datagram)
            guard let magic = try? reader.read(count: 3, field: "magic"), magic == Envelope.magic,
                  let version = try? reader.read(UInt8.self, field: "version")
            else {
                return .rejected(.truncated)
            }
            guard version == Envelope.version else { return .rejected(.unknownVersion) }
            guard let senderBits = try? reader.read(UInt64.self, field: "sender"),
                  let recipientBits = try? reader.read(UInt64.self, field: "recipient"),
                  let session = try? reader.read(UInt64.self, field: "session"),
                  let sequence = try? reader.read(UInt64.self, field: "sequence"),
                  let nonceBytes = try? reader.read(count: 12, field: "nonce")
            else {
                return .rejected(.truncated)
            }
            let sender = NodeID(senderBits)
            let addressee = NodeID(recipientBits)
            guard addressee == recipient || addressee == .anyRecipient else {
                return .rejected(.wrongRecipient)
            }
            switch windows.verdict(sender: sender, session: session, sequence: sequence) {
            case .replayed: return .rejected(.replayed)
            case .tooOld: return .rejected(.tooOld)
            case .tooFarAhead: return .rejected(.tooFarAhead)
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
            windows.accept(sender: sender, session: session, sequence: sequence)
            let message: Message
            do {
                message = try Message.decode(plaintext)
            } catch {
                return .rejected(.malformed, detail: error)
            }
            // Only a join may be for whoever receives it; anything else names its recipient.
            guard addressee != .anyRecipient || message.kind == .join else {
                return .rejected(.unaddressed)
            }
            return .ok(sender: sender, sequence: sequence, message: message)
        }
    }
}
