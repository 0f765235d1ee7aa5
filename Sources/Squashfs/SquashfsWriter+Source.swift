import Filesystem

extension Squashfs.Writer {
    /// Writes everything `source` produces into a new image at `path` and finishes it: the
    /// single call a build stage or a benchmark harness needs. On failure the partial image is
    /// left for the caller to delete.
    public static func write(
        _ source: EntrySource, to path: String, options: Squashfs.Options
    ) throws -> Squashfs.Summary {
        let writer = try Squashfs.Writer(path: path, options: options)
        try source.write(to: writer)
        return try writer.finish()
    }
}
