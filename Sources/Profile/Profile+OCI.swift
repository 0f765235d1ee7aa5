extension Profile {
    /// An OCI image whose layers are flattened into the root filesystem.
    public struct OCI: Sendable, Equatable {
        /// Absolute path of an OCI image layout directory or a `docker save` archive.
        public var path: String
        /// Which image to take when the layout holds several (a tag or `name:tag`); `nil` means the only one.
        public var reference: String?

        /// An OCI image at absolute `path`.
        public init(path: String, reference: String? = nil) {
            self.path = path
            self.reference = reference
        }
    }
}
