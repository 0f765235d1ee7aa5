extension Profile {
    /// A file written into the image with content given in the profile.
    public struct InlineFile: Sendable, Equatable {
        /// Absolute, normalised path in the image, like `/etc/hostname`.
        public var path: String
        /// The file's content, written as UTF-8.
        public var content: String
        /// Permission bits; `0644` unless set.
        public var mode: FileMode
        /// Owning user; root unless set.
        public var owner: Identity?
        /// Owning group; root unless set.
        public var group: Identity?

        /// A file at `path` (absolute, normalised) holding `content`.
        public init(path: String, content: String, mode: FileMode = .defaultFile, owner: Identity? = nil, group: Identity? = nil) {
            self.path = path
            self.content = content
            self.mode = mode
            self.owner = owner
            self.group = group
        }
    }
}
