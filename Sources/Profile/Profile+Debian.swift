extension Profile {
    /// A Debian root filesystem bootstrapped with mmdebstrap.
    public struct Debian: Sendable, Equatable {
        /// The default suite.
        public static let defaultSuite = "trixie"
        /// The default mirror.
        public static let defaultMirror = "http://deb.debian.org/debian"

        /// Release codename or suite, like `trixie` or `bookworm`.
        public var suite: String
        /// Mirror URL (`http`, `https` or `file`).
        public var mirror: String
        /// Archive components, like `main`, `contrib`.
        public var components: [String]
        /// The mmdebstrap variant: which packages form the starting set.
        public var variant: DebianVariant
        /// Extra packages to install, deduplicated, in order of first mention.
        public var packages: [String]
        /// Whether apt installs recommended packages.
        public var recommends: Bool
        /// The target architecture.
        public var architecture: Architecture

        /// A Debian base; the defaults are the ones a profile gets for absent keys.
        public init(
            suite: String = Debian.defaultSuite,
            mirror: String = Debian.defaultMirror,
            components: [String] = ["main"],
            variant: DebianVariant = .minbase,
            packages: [String] = [],
            recommends: Bool = false,
            architecture: Architecture = .amd64
        ) {
            self.suite = suite
            self.mirror = mirror
            self.components = components
            self.variant = variant
            self.packages = packages
            self.recommends = recommends
            self.architecture = architecture
        }
    }
}
