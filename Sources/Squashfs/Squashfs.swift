/// Namespace for the in-process squashfs writer built on libsquashfs.
///
/// `Writer` takes a stream of `FileEntry`s (it is an `EntrySink`) and writes a squashfs image:
/// file data is compressed on worker threads as it arrives, metadata is kept in a `Tree` and
/// written by `finish()`. `Options` fixes everything that shapes the image, `Summary` reports
/// what was written, and every failure is a `Squashfs.Error` naming the libsquashfs code.
public enum Squashfs {}
