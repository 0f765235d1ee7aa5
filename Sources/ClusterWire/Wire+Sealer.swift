import Crypto

extension Wire {
    /// Seals outgoing messages for one node: encodes, encrypts and authenticates them under the
    /// datagram subkey, numbering each one.
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
    /// Sequence numbers serve only replay protection. Start them from a value that grows across
    /// restarts (the agent passes wall-clock microseconds), so a rebooted node's datagrams are not
    /// below its peers' replay windows.
    public struct Sealer: Sendable {
        /// The node whose datagrams this sealer produces.
        public let sender: NodeID
        /// The sequence number the next datagram gets.
        public private(set) var nextSequence: UInt64
        private let keyBytes: [UInt8]

        /// Creates a sealer for `sender`, numbering from `initialSequence`.
        public init(keys: Keys, sender: NodeID, initialSequence: UInt64 = 1) {
            self.keyBytes = keys.datagramBytes
            self.sender = sender
            self.nextSequence = initialSequence
        }

        /// Seals `message` with a fresh random nonce.
        public mutating func seal(_ message: Message) throws -> [UInt8] {
            try seal(message, nonce: Array(ChaChaPoly.Nonce()))
        }

        /// Seals `message` with the given 12-byte nonce (tests inject nonces; never reuse one).
        public mutating func seal(_ message: Message, nonce: [UInt8]) throws -> [UInt8] {
            try seal(plaintext: message.encoded(), nonce: nonce)
        }

        /// Seals raw plaintext; internal so tests can produce authentic but undecodable datagrams.
        mutating func seal(plaintext: [UInt8], nonce: [UInt8]) throws -> [UInt8] {
            let header = Envelope(sender: sender, sequence: nextSequence, nonce: nonce).encoded()
            nextSequence &+= 1
            let box = try ChaChaPoly.seal(
                plaintext, using: SymmetricKey(data: keyBytes), nonce: ChaChaPoly.Nonce(data: nonce),
                authenticating: header
            )
            return header + Array(box.ciphertext) + Array(box.tag)
        }
    }
}
