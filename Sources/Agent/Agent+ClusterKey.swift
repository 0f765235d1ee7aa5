extension Agent {
    /// The cluster key file: 64 hex digits (32 bytes), optionally followed by a newline, the
    /// form `openssl rand -hex 32` writes and `livebuild make` generates.
    public enum ClusterKey {
        /// Parses the file's text; `path` only names the file in the error.
        public static func parse(_ text: String, path: String) throws(Failure) -> [UInt8] {
            let hex = text.filter { !$0.isWhitespace }
            guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
                throw Failure("cluster key \(path) is not 64 hex digits (32 bytes); make one with `openssl rand -hex 32 > \(path)`")
            }
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                guard let byte = UInt8(hex[index..<next], radix: 16) else {
                    throw Failure("cluster key \(path) is not 64 hex digits")
                }
                bytes.append(byte)
                index = next
            }
            return bytes
        }
    }
}
