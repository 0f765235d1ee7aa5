extension Profile {
    /// A Debian architecture name. Only `amd64` is supported for now.
    public enum Architecture: String, Sendable, Equatable, CaseIterable {
        case amd64
    }
}
