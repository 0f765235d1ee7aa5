/// Every decoder that reads bytes from the network, as a function of those bytes, for libFuzzer
/// (`make fuzz`) and for replaying its findings (`livebuild-fuzz TARGET FILE...`, and
/// `FuzzRegressionTests` over Tests/Fuzz).
///
/// A target must return normally for every input: a trap (an index out of range, an overflow, a
/// force unwrap, a failed `precondition`) is what the fuzzer reports. Targets also check a few
/// round trips with `precondition` (what decodes re-encodes to the same value, an authentic
/// datagram opens), so a decoder that silently misreads is caught too.
public enum FuzzTargets {
    /// A target: its name (the directory of its seeds and crashes) and its function.
    public struct Target: Sendable {
        public let name: String
        public let run: @Sendable ([UInt8]) -> Void
    }

    /// Every target, in the order `make fuzz` runs them.
    public static let all: [Target] = [
        Target(name: "datagram", run: datagram),
        Target(name: "stream", run: stream),
        Target(name: "control", run: control),
        Target(name: "migration", run: migration),
        Target(name: "http", run: http),
        Target(name: "admission", run: admission),
        Target(name: "criu-images", run: criuImages),
    ]

    /// The target called `name`.
    public static func named(_ name: String) -> Target? {
        all.first { $0.name == name }
    }
}
