extension Wire {
    /// Why bytes could not be decoded as a ``Wire/Message``. Decoding is strict: anything not fully
    /// understood is rejected rather than guessed at.
    public enum DecodingError: Error, Hashable, Sendable {
        /// The bytes end before the field named here.
        case truncated(field: String)
        /// The version byte is not one this agent speaks.
        case unknownVersion(UInt8)
        /// The type byte names no message.
        case unknownType(UInt8)
        /// A member status byte outside alive/suspect/dead.
        case unknownStatus(UInt8)
        /// A text field is not valid UTF-8, or breaks its field's rules (labels).
        case invalidText(field: String)
        /// Bytes remain after a complete message.
        case trailingBytes(count: Int)
    }
}
