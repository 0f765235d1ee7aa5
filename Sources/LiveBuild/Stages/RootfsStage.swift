import Filesystem
import Squashfs

/// Stages b and c: the layers (base, overlays, inline files) streamed through the layer stack
/// straight into the in-process squashfs writer, capturing on the way the files later stages
/// need. Nothing of the tree is unpacked to disk.
public struct RootfsStage {
    public var stack: LayerStack
    public var options: Squashfs.Options

    public init(stack: LayerStack, options: Squashfs.Options) {
        self.stack = stack
        self.options = options
    }

    public struct Result: Sendable {
        public var files: ImageFiles
        public var summary: Squashfs.Summary
        public var statistics: LayerStack.Statistics
    }

    /// Writes the squashfs image to `path`. `progress` gets (entries, bytes) as the stream goes.
    public func write(to path: String, progress: ((Int, UInt64) -> Void)? = nil) throws -> Result {
        let writer: Squashfs.Writer
        do {
            writer = try Squashfs.Writer(path: path, options: options)
        } catch {
            throw LiveBuildError(code: .output, message: "cannot start the squashfs image \(path)", underlying: error)
        }
        let capture = CapturingSink(downstream: writer, progress: progress)
        let statistics: LayerStack.Statistics
        do {
            statistics = try stack.write(to: capture)
        } catch let error as LiveBuildError {
            throw error
        } catch {
            throw LiveBuildError(code: .output, message: "writing the squashfs image failed", underlying: error)
        }
        let summary: Squashfs.Summary
        do {
            summary = try writer.finish()
        } catch {
            throw LiveBuildError(code: .output, message: "finishing the squashfs image \(path) failed", underlying: error)
        }
        progress?(capture.entries, capture.bytes)
        return Result(files: capture.captured, summary: summary, statistics: statistics)
    }
}
