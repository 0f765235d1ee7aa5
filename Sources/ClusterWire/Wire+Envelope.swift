extension Wire {
    /// The clear, authenticated header in front of every sealed datagram.
    ///
    /// Layout (48 bytes, then ciphertext, then the 16-byte Poly1305 tag):
    /// `magic:"LBC" version:u8 sender:u64 recipient:u64 session:u64 sequence:u64 nonce:12 bytes`.
    /// The whole header is the AEAD's associated data, so a sender, recipient, session or
    /// sequence changed in transit fails authentication like any other tampering.
    ///
    /// - `recipient` binds the datagram to one node: a datagram from A to B replayed to C is
    ///   refused by C. ``NodeID/anyRecipient`` (0) is allowed only for `join`, which goes to
    ///   seeds whose id is not known yet and to the multicast discovery group.
    /// - `session` is random per agent start (and renewed after a refutation, see
    ///   ``Wire/Sealer/startSession(_:)``); sequences count from 1 within a session, so no clock is
    ///   needed for a restarted node to be accepted.
    public struct Envelope: Hashable, Sendable {
        /// Identifies clusterd datagrams, so stray traffic on the port is cheap to drop.
        public static let magic: [UInt8] = Array("LBC".utf8)
        /// The envelope format version: 2 added the recipient and the session.
        public static let version: UInt8 = 2
        /// Header bytes before the ciphertext.
        public static let headerSize = 3 + 1 + 8 + 8 + 8 + 8 + 12
        /// Bytes of the Poly1305 tag after the ciphertext.
        public static let tagSize = 16
        /// Where the nonce starts in the header.
        public static let nonceOffset = headerSize - 12

        /// The node that sealed the datagram.
        public var sender: NodeID
        /// The node the datagram is for, or ``NodeID/anyRecipient`` (joins only).
        public var recipient: NodeID
        /// The sender's session: random per agent start.
        public var session: UInt64
        /// The sender's sequence number, strictly increasing within a session, from 1.
        public var sequence: UInt64
        /// The AEAD nonce (random per datagram).
        public var nonce: [UInt8]

        /// Creates a header.
        public init(sender: NodeID, recipient: NodeID, session: UInt64, sequence: UInt64, nonce: [UInt8]) {
            self.sender = sender
            self.recipient = recipient
            self.session = session
            self.sequence = sequence
            self.nonce = nonce
        }

        /// The header's bytes, used both on the wire and as associated data.
        public func encoded() -> [UInt8] {
            var writer = ByteWriter()
            writer.write(raw: Self.magic)
            writer.write(Self.version)
            writer.write(sender.rawValue)
            writer.write(recipient.rawValue)
            writer.write(session)
            writer.write(sequence)
            writer.write(raw: nonce)
            return writer.bytes
        }
    }
}
