extension Profile {
    /// A root filesystem tar archive, in any compression libarchive reads.
    public struct Tarball: Sendable, Equatable {
        /// Absolute path of the archive.
        public var path: String

        /// A tar archive at absolute `path`.
        public init(path: String) {
            self.path = path
        }
    }
}
