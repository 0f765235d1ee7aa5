import ClusterWire
import Crypto

extension FuzzTargets {
    /// The fixed cluster key of the fuzz targets and their seeds (0, 1, … 31).
    static let clusterKey = (0..<32).map { UInt8($0) }
    static let keys: Wire.Keys = {
        do { return try Wire.Keys(clusterKey: clusterKey) } catch { preconditionFailure("a 32-byte key was refused: \(error)") }
    }()
    /// The node that seals the fuzzed datagrams, and the node that opens them.
    static let datagramSender = Wire.NodeID(0x5EED_0001)
    static let datagramRecipient = Wire.NodeID(0x5EED_0002)

    /// The UDP port's decoders: a datagram from anyone on the LAN (``Wire/Opener/open(_:)``),
    /// the same bytes as a message (``Wire/Message/decode(_:)``), and as the plaintext of an
    /// authentic datagram, so a key holder's bytes reach the decoder behind the AEAD.
    public static func datagram(_ bytes: [UInt8]) {
        // From anyone: the envelope, the replay window, the tag. Twice: the second is a replay.
        var opener = Wire.Opener(keys: keys, recipient: datagramRecipient)
        let first = opener.open(bytes)
        let again = opener.open(bytes)
        if first.message != nil {
            precondition(again.rejection == .replayed, "an authentic datagram opened twice: \(again)")
        }

        // A message as it arrives after the AEAD; what decodes must survive a round trip,
        // sealed and opened again.
        if let message = try? Wire.Message.decode(bytes) {
            precondition((try? Wire.Message.decode(message.encoded())) == message, "\(message) does not re-decode to itself")
            var sealer = Wire.Sealer(keys: keys, sender: datagramSender, session: 1)
            let recipient = message.kind == .join ? Wire.NodeID.anyRecipient : datagramRecipient
            if let sealed = try? sealer.seal(message, to: recipient, nonce: Array(repeating: 7, count: 12)) {
                var receiver = Wire.Opener(keys: keys, recipient: datagramRecipient)
                precondition(receiver.open(sealed).message == message, "a sealed \(message.kind) did not open")
            }
        }

        // A key holder's datagram: any plaintext, sealed under the cluster key, to this node
        // or to anyone (the first byte picks), with any session and sequence.
        var input = Input(bytes)
        let addressed = input.byte() & 1 == 0
        let session = input.integer(UInt64.self)
        let sequence = input.integer(UInt64.self)
        let plaintext = input.rest()
        let header = Wire.Envelope(
            sender: datagramSender, recipient: addressed ? datagramRecipient : .anyRecipient,
            session: session, sequence: sequence, nonce: Array(repeating: 9, count: 12)
        ).encoded()
        guard let nonce = try? ChaChaPoly.Nonce(data: Array(repeating: UInt8(9), count: 12)),
              let box = try? ChaChaPoly.seal(plaintext, using: keys.datagram, nonce: nonce, authenticating: header)
        else { preconditionFailure("ChaChaPoly refused to seal") }
        var receiver = Wire.Opener(keys: keys, recipient: datagramRecipient)
        let opened = receiver.open(header + Array(box.ciphertext) + Array(box.tag))
        switch opened.rejection {
        case nil, .malformed, .unaddressed, .tooFarAhead, .tooOld, .replayed:
            break
        case let other?:
            preconditionFailure("an authentic datagram was refused as \(other)")
        }
    }
}
