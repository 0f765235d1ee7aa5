extension FuzzTargets {
    /// Takes a fuzz input apart front to back; reading past the end gives what is left (or
    /// zeros), so every input drives a target somewhere.
    struct Input {
        private let bytes: [UInt8]
        private(set) var offset = 0

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        var isEmpty: Bool { offset >= bytes.count }

        mutating func byte() -> UInt8 {
            guard offset < bytes.count else { return 0 }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func take(_ count: Int) -> [UInt8] {
            let end = min(bytes.count, offset + max(0, count))
            defer { offset = end }
            return Array(bytes[offset..<end])
        }

        mutating func integer<T: FixedWidthInteger & UnsignedInteger>(_: T.Type = T.self) -> T {
            take(MemoryLayout<T>.size).reduce(0) { $0 << 8 | T($1) }
        }

        mutating func rest() -> [UInt8] {
            take(bytes.count - offset)
        }
    }
}
