extension Qemu {
    /// Pure helpers over serial console text.
    public enum ConsoleLog {
        /// Markers of a kernel that has failed, even if the test that booted it passed.
        public static let failureMarkers = ["Kernel panic", "Oops"]

        /// Lines holding any of `failureMarkers`.
        public static func failures(in text: String) -> [String] {
            text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
                .filter { line in failureMarkers.contains { line.contains($0) } }
                .map(String.init)
        }

        /// The last `count` lines of `text`.
        public static func tail(of text: String, lines count: Int = 40) -> String {
            let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            return lines.suffix(count).joined(separator: "\n")
        }
    }
}
