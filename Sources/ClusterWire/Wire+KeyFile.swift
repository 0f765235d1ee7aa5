extension Wire.Keys {
    /// The cluster key file format, shared by the build (which generates and checks it) and the
    /// agent (which reads it): 64 hex digits (32 bytes) and a newline, what `openssl rand -hex
    /// 32` writes. Whitespace is ignored and either case is accepted when reading.
    public enum KeyFile {
        /// The key bytes, or nil when `text` is not 64 hex digits.
        public static func parse(_ text: String) -> [UInt8]? {
            let hex = Array(text.filter { !$0.isWhitespace }.utf8)
            guard hex.count == 64 else { return nil }
            var bytes: [UInt8] = []
            for index in stride(from: 0, to: 64, by: 2) {
                guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(byte)
            }
            return bytes
        }

        /// The file's text for `key`: lowercase hex and a newline.
        public static func text(_ key: [UInt8]) -> String {
            key.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "\n"
        }

        /// The text of a new random key from the system generator.
        public static func generate() -> String {
            var generator = SystemRandomNumberGenerator()
            return text((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
    }
}
