extension Profile {
    /// Permission bits (including setuid, setgid and sticky), written in profiles as an octal
    /// string such as `"0644"` or `"4755"`.
    public struct FileMode: Sendable, Equatable, Hashable, CustomStringConvertible {
        /// The bits, `0...0o7777`.
        public var rawValue: UInt16

        /// `nil` when `rawValue` has bits outside `0o7777`.
        public init?(rawValue: UInt16) {
            guard rawValue <= 0o7777 else { return nil }
            self.rawValue = rawValue
        }

        /// Parses 3 or 4 octal digits (`"644"`, `"0644"`, `"4755"`); `nil` for anything else.
        public init?(octal text: String) {
            let digits = Array(text.utf8)
            guard (3...4).contains(digits.count) else { return nil }
            var value: UInt16 = 0
            for digit in digits {
                guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(digit) else { return nil }
                value = value << 3 | UInt16(digit - UInt8(ascii: "0"))
            }
            self.rawValue = value
        }

        /// `rw-r--r--` for files.
        public static let defaultFile = FileMode(uncheckedRawValue: 0o644)

        private init(uncheckedRawValue: UInt16) {
            rawValue = uncheckedRawValue
        }

        /// Four octal digits, like `0644`.
        public var description: String {
            let digits = String(rawValue, radix: 8)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
    }
}
