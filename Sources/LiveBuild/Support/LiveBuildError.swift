/// The one error type at the boundary of the build library: a category, one sentence for the
/// user (what is wrong, where, what to do), and the underlying error if there is one.
public struct LiveBuildError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The profile is wrong (a key, a path, a value).
        case profile
        /// A package or the mirror is wrong.
        case packages
        /// An input file (overlay, tarball, OCI image) is missing or unreadable.
        case input
        /// A tool we run (mmdebstrap, xorriso, grub-mkimage, qemu) failed or is missing.
        case tool
        /// A library (libarchive, libsquashfs) or the filesystem failed while writing.
        case output
        /// The image lacks something the live system needs (kernel, busybox, modules).
        case image
    }

    public var code: Code
    public var message: String
    public var underlying: String?

    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying.map { String(describing: $0) }
    }

    public var description: String {
        guard let underlying, !message.contains(underlying) else { return message }
        return "\(message) (\(underlying))"
    }
}
