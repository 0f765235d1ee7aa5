extension Profile {
    /// Mode and ownership for one path in the image, applied after the base, overlays and inline
    /// files are in place. Fields left `nil` keep what the path already has.
    public struct Permission: Sendable, Equatable {
        /// Absolute, normalised path in the image, like `/etc/shadow`.
        public var path: String
        /// The permission bits to set.
        public var mode: FileMode?
        /// The owning user.
        public var owner: Identity?
        /// The owning group.
        public var group: Identity?

        /// Settings for `path` (absolute, normalised); `nil` fields are left as they are.
        public init(path: String, mode: FileMode? = nil, owner: Identity? = nil, group: Identity? = nil) {
            self.path = path
            self.mode = mode
            self.owner = owner
            self.group = group
        }
    }
}
