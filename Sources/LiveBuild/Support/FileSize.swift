import Foundation

/// Sizes of files the build wrote or measured.
public enum FileSize {
    /// The size of the file at `path` in bytes.
    public static func of(_ path: String) throws -> UInt64 {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
    }
}
