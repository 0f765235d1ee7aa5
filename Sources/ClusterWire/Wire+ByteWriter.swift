extension Wire {
    /// Appends big-endian integers and length-prefixed byte strings to a buffer.
    public struct ByteWriter: Sendable {
        /// The bytes written so far.
        public private(set) var bytes: [UInt8] = []

        /// Starts an empty buffer.
        public init() {}

        /// Appends one byte.
        public mutating func write(_ value: UInt8) {
            bytes.append(value)
        }

        /// Appends a big-endian fixed-width integer.
        public mutating func write<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
            var big = value.bigEndian
            withUnsafeBytes(of: &big) { bytes.append(contentsOf: $0) }
        }

        /// Appends raw bytes with no prefix.
        public mutating func write(raw: some Sequence<UInt8>) {
            bytes.append(contentsOf: raw)
        }

        /// Appends text as UTF-8 behind a 16-bit length; longer text is cut at 65535 bytes.
        public mutating func write(text: String) {
            let utf8 = Array(text.utf8.prefix(Int(UInt16.max)))
            write(UInt16(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }
}
