extension Profile {
    /// Where the root filesystem comes from: exactly one kind per profile.
    public enum Base: Sendable, Equatable {
        /// Bootstrap Debian with mmdebstrap.
        case debian(Debian)
        /// Unpack a root filesystem tar archive.
        case tarball(Tarball)
        /// Flatten the layers of an OCI image.
        case oci(OCI)

        /// The JSON key naming this kind: `debian`, `tarball` or `oci`.
        public var kind: String {
            switch self {
            case .debian: "debian"
            case .tarball: "tarball"
            case .oci: "oci"
            }
        }
    }
}
