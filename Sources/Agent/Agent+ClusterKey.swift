import ClusterWire

extension Agent {
    /// Reads the cluster key file (format: ``Wire/Keys/KeyFile``).
    public enum ClusterKey {
        /// Parses the file's text; `path` only names the file in the error.
        public static func parse(_ text: String, path: String) throws(Failure) -> [UInt8] {
            guard let key = Wire.Keys.KeyFile.parse(text) else {
                throw Failure("cluster key \(path) is not 64 hex digits (32 bytes); make one with `openssl rand -hex 32 > \(path)`")
            }
            return key
        }
    }
}
