/// The protocol `clusterd` agents speak to each other over UDP.
///
/// Two layers:
/// - ``Wire/Message`` values and their hand-written binary encoding (``Wire/Message/encoded()``,
///   ``Wire/Message/decode(_:)``).
/// - ``Wire/Sealer`` and ``Wire/Opener``: every datagram is authenticated and encrypted under a
///   subkey of the cluster key, carries the sender and a sequence number in its authenticated
///   header (``Wire/Envelope``), and is checked against a per-sender ``Wire/ReplayWindow``.
///
/// Why a hand-written encoding and not JSON or protobuf: a gossip datagram should stay well under a
/// 1400-byte MTU while carrying a handful of member updates, which JSON's field names and decimal
/// numbers roughly triple; and the agent ships as a small static binary inside the image, where
/// Foundation's JSON coders or a protobuf runtime would add megabytes for a format with five message
/// types. Every field is a big-endian integer or a length-prefixed byte string, so the decoder is a
/// few hundred lines that reject anything they do not fully understand.
public enum Wire {
    /// The version byte that starts every encoded message; bumped on any incompatible change.
    public static let version: UInt8 = 1
}
