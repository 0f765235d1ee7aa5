import CArchive

/// Wrappers around libarchive: reading any archive libarchive knows (tar in every compression,
/// cpio, OCI layers) as a `FileEntry` stream, and writing entries as tar or cpio.
public enum Archive {
    /// The status codes of libarchive's `ARCHIVE_*` macros (which Swift cannot import).
    enum Status {
        static let eof: Int32 = 1
        static let ok: Int32 = 0
        static let retry: Int32 = -10
        static let warn: Int32 = -20
        static let failed: Int32 = -25
        static let fatal: Int32 = -30
    }

    /// The file-type bits of `AE_IF*` (macros with casts, so not imported).
    enum FileType {
        static let mask: UInt32 = 0o170000
        static let regular: UInt32 = 0o100000
        static let symlink: UInt32 = 0o120000
        static let socket: UInt32 = 0o140000
        static let characterDevice: UInt32 = 0o020000
        static let blockDevice: UInt32 = 0o060000
        static let directory: UInt32 = 0o040000
        static let fifo: UInt32 = 0o010000
    }

    /// The one place a libarchive status becomes a Swift error: anything below `ARCHIVE_WARN`
    /// throws an `Archive.Error` carrying `archive_error_string`; warnings pass.
    @discardableResult
    static func check(_ status: Int32, _ handle: OpaquePointer, _ operation: @autoclosure () -> String) throws(Archive.Error) -> Int32 {
        if status >= Status.warn { return status }
        throw Archive.Error(operation: operation(), message: lastError(handle), code: archive_errno(handle))
    }

    static func lastError(_ handle: OpaquePointer) -> String {
        guard let message = archive_error_string(handle) else { return "unknown libarchive error" }
        return String(cString: message)
    }
}
