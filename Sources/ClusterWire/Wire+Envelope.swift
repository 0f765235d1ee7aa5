extension Wire {
    /// The clear, authenticated header in front of every sealed datagram.
    ///
    /// Layout (34 bytes, then ciphertext, then the 16-byte Poly1305 tag):
    /// `magic:"LBC" version:u8 sender:u64 sequence:u64 nonce:12 bytes`. The whole header is the
    /// AEAD's associated data, so a sender id or sequence number changed in transit fails
    /// authentication like any other tampering.
    public struct Envelope: Hashable, Sendable {
        /// Identifies clusterd datagrams, so stray traffic on the port is cheap to drop.
        public static let magic: [UInt8] = Array("LBC".utf8)
        /// The envelope format version.
        public static let version: UInt8 = 1
        /// Header bytes before the ciphertext.
        public static let headerSize = 3 + 1 + 8 + 8 + 12
        /// Bytes of the Poly1305 tag after the ciphertext.
        public static let tagSize = 16

        /// The node that sealed the datagram.
        public var sender: NodeID
        /// The sender's sequence number, strictly increasing per sender.
        public var sequence: UInt64
        /// The AEAD nonce (random per datagram).
        public var nonce: [UInt8]

        /// Creates a header.
        public init(sender: NodeID, sequence: UInt64, nonce: [UInt8]) {
            self.sender = sender
            self.sequence = sequence
            self.nonce = nonce
        }

        /// The header's bytes, used both on the wire and as associated data.
        public func encoded() -> [UInt8] {
            var writer = ByteWriter()
            writer.write(raw: Self.magic)
            writer.write(Self.version)
            writer.write(sender.rawValue)
            writer.write(sequence)
            writer.write(raw: nonce)
            return writer.bytes
        }
    }
}
