import Crypto

extension Wire {
    /// Seals outgoing messages for one node: encodes, encrypts and authenticates them under the
    /// datagram subkey, addressed to one recipient and numbered within the sender's session.
    ///
    /// Cipher: ChaCha20-Poly1305. It is constant-time in plain software, so it is fast and safe on
    /// every node a live image might boot (old x86 without AES-NI, ARM boards without crypto
    /// extensions), where AES-GCM falls back to slow or table-based code. Both are in swift-crypto
    /// at no extra binary cost.
    ///
    /// Nonces: 96 random bits per datagram, not a counter. A live image has no persistent storage,
    /// so a counter would restart at zero after every reboot and repeat nonces under the same
    /// long-lived cluster key, which breaks ChaCha20-Poly1305 completely. Random nonces collide
    /// with probability about n²/2⁹⁷ after n datagrams cluster-wide: at 1000 datagrams/s for a
    /// year (≈2³⁵) that is ≈2⁻²⁷; rotate the cluster key long before 2³² datagrams per key.
    ///
    /// Sessions and sequence numbers serve only replay protection. Each agent start picks a
    /// random 64-bit session and numbers its datagrams from 1; peers keep one replay window per
    /// (sender, session), so a restarted node is accepted at once whatever its clock says.
    public struct Sealer: Sendable {
        /// The node whose datagrams this sealer produces.
        public let sender: NodeID
        /// The current session (random per agent start, renewed by ``startSession(_:)``).
        public private(set) var session: UInt64
        /// The sequence number the next datagram gets.
        public private(set) var nextSequence: UInt64 = 1
        private let keyBytes: [UInt8]

        /// Creates a sealer for `sender` in `session`, numbering from 1.
        public init(keys: Keys, sender: NodeID, session: UInt64) {
            self.keyBytes = keys.datagramBytes
            self.sender = sender
            self.session = session
        }

        /// Starts a new session: a new id and sequence numbers from 1 again.
        ///
        /// Peers open the new session with a fresh replay window. That heals a window pushed far
        /// ahead by a key holder forging datagrams in this node's current session (which locks
        /// this node's real, lower sequence numbers out as `tooOld`): the agent calls this when it
        /// refutes a suspicion or death claim about itself, the symptom of such a lockout.
        public mutating func startSession(_ id: UInt64) {
            session = id
            nextSequence = 1
        }

        /// Seals `message` for `recipient` with a fresh random nonce.
        public mutating func seal(_ message: Message, to recipient: NodeID) throws -> [UInt8] {
            try seal(message, to: recipient, nonce: Array(ChaChaPoly.Nonce()))
        }

        /// Seals `message` with the given 12-byte nonce (tests inject nonces; never reuse one).
        public mutating func seal(_ message: Message, to recipient: NodeID, nonce: [UInt8]) throws -> [UInt8] {
            try seal(plaintext: message.encoded(), to: recipient, nonce: nonce)
        }

        /// Seals raw plaintext; internal so tests can produce authentic but undecodable datagrams.
        mutating func seal(plaintext: [UInt8], to recipient: NodeID, nonce: [UInt8]) throws -> [UInt8] {
            try seal(plaintext: plaintext, to: recipient, sequence: nextSequence, nonce: nonce)
        }

        /// Seals with an explicit sequence number, leaving ``nextSequence`` alone unless it was
        /// the next one; internal so tests can forge authentic datagrams with any sequence.
        mutating func seal(plaintext: [UInt8], to recipient: NodeID, sequence: UInt64, nonce: [UInt8]) throws -> [UInt8] {
            let header = Envelope(
                sender: sender, recipient: recipient, session: session, sequence: sequence, nonce: nonce
            ).encoded()
            if sequence == nextSequence { nextSequence &+= 1 }
            let box = try ChaChaPoly.seal(
                plaintext, using: SymmetricKey(data: keyBytes), nonce: ChaChaPoly.Nonce(data: nonce),
                authenticating: header
            )
            return header + Array(box.ciphertext) + Array(box.tag)
        }
    }
}
