extension Profile {
    /// A directory whose contents are copied over the root filesystem.
    public struct Overlay: Sendable, Equatable {
        /// Absolute path of the directory (checked to exist when the profile was loaded).
        public var path: String

        /// An overlay directory at absolute `path`.
        public init(path: String) {
            self.path = path
        }
    }
}
