import CSquashfs

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Squashfs {
    /// Everything that can go wrong while writing a squashfs image.
    ///
    /// Each case says what failed and where (the image path, the entry path), so the CLI can show
    /// one sentence to the user without knowing about libsquashfs.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        /// A libsquashfs call failed. `code` is the raw `SQFS_ERROR` value, `codeName` its symbolic
        /// name (`SQFS_ERROR_IO`), `operation` what the writer was doing when it failed.
        case library(code: Int32, codeName: String, operation: String)
        /// The output file could not be created (`errno` and its message).
        case cannotOpen(path: String, errno: Int32, message: String)
        /// The options were rejected before anything was written.
        case invalidOptions(String)
        /// A regular file's contents did not have the size its entry announced.
        case sizeMismatch(path: String, expected: UInt64, actual: UInt64)
        /// A hard link points at a path that does not exist, is a directory or loops.
        case unresolvedHardLink(path: String, target: String)
        /// The writer was used after `finish()` or after an earlier error left it unusable.
        case notWritable(String)

        public var description: String {
            switch self {
            case let .library(_, codeName, operation):
                return "libsquashfs failed while \(operation): \(codeName) (\(Error.meaning(ofCodeName: codeName)))"
            case let .cannotOpen(path, _, message):
                return "cannot create squashfs image \(path): \(message)"
            case let .invalidOptions(reason):
                return "invalid squashfs options: \(reason)"
            case let .sizeMismatch(path, expected, actual):
                return "file \(path) announced \(expected) bytes but its contents had \(actual)"
            case let .unresolvedHardLink(path, target):
                return "hard link \(path) points at \(target), which is not a file in the image"
            case let .notWritable(reason):
                return "the squashfs writer cannot be used any more: \(reason)"
            }
        }

        /// The symbolic name of a libsquashfs error code, as spelled in `sqfs/error.h`.
        public static func codeName(_ code: Int32) -> String {
            switch code {
            case SQFS_ERROR_ALLOC.rawValue: return "SQFS_ERROR_ALLOC"
            case SQFS_ERROR_IO.rawValue: return "SQFS_ERROR_IO"
            case SQFS_ERROR_COMPRESSOR.rawValue: return "SQFS_ERROR_COMPRESSOR"
            case SQFS_ERROR_INTERNAL.rawValue: return "SQFS_ERROR_INTERNAL"
            case SQFS_ERROR_CORRUPTED.rawValue: return "SQFS_ERROR_CORRUPTED"
            case SQFS_ERROR_UNSUPPORTED.rawValue: return "SQFS_ERROR_UNSUPPORTED"
            case SQFS_ERROR_OVERFLOW.rawValue: return "SQFS_ERROR_OVERFLOW"
            case SQFS_ERROR_OUT_OF_BOUNDS.rawValue: return "SQFS_ERROR_OUT_OF_BOUNDS"
            case SFQS_ERROR_SUPER_MAGIC.rawValue: return "SFQS_ERROR_SUPER_MAGIC"
            case SFQS_ERROR_SUPER_VERSION.rawValue: return "SFQS_ERROR_SUPER_VERSION"
            case SQFS_ERROR_SUPER_BLOCK_SIZE.rawValue: return "SQFS_ERROR_SUPER_BLOCK_SIZE"
            case SQFS_ERROR_NOT_DIR.rawValue: return "SQFS_ERROR_NOT_DIR"
            case SQFS_ERROR_NO_ENTRY.rawValue: return "SQFS_ERROR_NO_ENTRY"
            case SQFS_ERROR_LINK_LOOP.rawValue: return "SQFS_ERROR_LINK_LOOP"
            case SQFS_ERROR_NOT_FILE.rawValue: return "SQFS_ERROR_NOT_FILE"
            case SQFS_ERROR_ARG_INVALID.rawValue: return "SQFS_ERROR_ARG_INVALID"
            case SQFS_ERROR_SEQUENCE.rawValue: return "SQFS_ERROR_SEQUENCE"
            default: return "SQFS_ERROR(\(code))"
            }
        }

        /// A short English reading of an error code name, from the comments in `sqfs/error.h`.
        static func meaning(ofCodeName name: String) -> String {
            switch name {
            case "SQFS_ERROR_ALLOC": return "out of memory"
            case "SQFS_ERROR_IO": return "reading or writing the image file failed"
            case "SQFS_ERROR_COMPRESSOR": return "the compressor failed"
            case "SQFS_ERROR_INTERNAL": return "internal libsquashfs error"
            case "SQFS_ERROR_CORRUPTED": return "corrupted data structure"
            case "SQFS_ERROR_UNSUPPORTED": return "unsupported feature or compressor"
            case "SQFS_ERROR_OVERFLOW": return "a size or count overflowed"
            case "SQFS_ERROR_OUT_OF_BOUNDS": return "out-of-bounds access"
            case "SQFS_ERROR_SUPER_BLOCK_SIZE": return "block size must be a power of two from 4 KiB to 1 MiB"
            case "SQFS_ERROR_ARG_INVALID": return "invalid argument"
            case "SQFS_ERROR_SEQUENCE": return "functions called in the wrong order"
            default: return "see sqfs/error.h"
            }
        }
    }

    /// Turns a libsquashfs status into a Swift error. Every status-returning C call goes through
    /// here; `operation` says what was being done ("writing the fragment table of x.sqfs").
    /// Non-negative statuses are success (some calls return a byte count).
    @discardableResult
    static func check(_ status: Int32, _ operation: @autoclosure () -> String) throws(Error) -> Int32 {
        guard status < 0 else { return status }
        throw Error.library(code: status, codeName: Error.codeName(status), operation: operation())
    }

    /// A libsquashfs error code raised on this side: a library object that broke its contract
    /// (a missing function pointer, an inode that was never produced).
    static func failure(_ code: SQFS_ERROR, _ operation: String) -> Error {
        Error.library(code: code.rawValue, codeName: Error.codeName(code.rawValue), operation: operation)
    }

    /// Unwraps a pointer returned by a libsquashfs constructor; those return NULL only when they
    /// could not allocate memory (or were given bad flags, which this module never does).
    static func created<T>(_ pointer: T?, _ operation: @autoclosure () -> String) throws(Error) -> T {
        guard let pointer else { throw failure(SQFS_ERROR_ALLOC, operation()) }
        return pointer
    }
}
