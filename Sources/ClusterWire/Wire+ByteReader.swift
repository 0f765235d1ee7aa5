extension Wire {
    /// Reads big-endian integers and length-prefixed byte strings, failing with
    /// ``Wire/DecodingError/truncated(field:)`` instead of reading past the end.
    public struct ByteReader: Sendable {
        private let bytes: [UInt8]
        /// The index of the next unread byte.
        public private(set) var offset: Int

        /// Reads `bytes` from the start.
        public init(_ bytes: [UInt8]) {
            self.bytes = bytes
            self.offset = 0
        }

        /// How many bytes are left.
        public var remaining: Int { bytes.count - offset }

        /// Reads a big-endian fixed-width integer.
        public mutating func read<T: FixedWidthInteger & UnsignedInteger>(
            _: T.Type = T.self, field: String
        ) throws(DecodingError) -> T {
            let width = MemoryLayout<T>.size
            guard remaining >= width else { throw .truncated(field: field) }
            var value: T = 0
            for byte in bytes[offset..<offset + width] {
                value = value << 8 | T(byte)
            }
            offset += width
            return value
        }

        /// Reads exactly `count` raw bytes.
        public mutating func read(count: Int, field: String) throws(DecodingError) -> [UInt8] {
            guard count >= 0, remaining >= count else { throw .truncated(field: field) }
            let slice = Array(bytes[offset..<offset + count])
            offset += count
            return slice
        }

        /// Reads UTF-8 text behind a 16-bit length.
        public mutating func readText(field: String) throws(DecodingError) -> String {
            let length = try read(UInt16.self, field: field)
            let utf8 = try read(count: Int(length), field: field)
            guard let text = String(validating: utf8, as: UTF8.self) else {
                throw .invalidText(field: field)
            }
            return text
        }

        /// Everything not yet read.
        public mutating func readRest() -> [UInt8] {
            let rest = Array(bytes[offset...])
            offset = bytes.count
            return rest
        }
    }
}
