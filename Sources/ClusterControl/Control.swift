/// The agent's control protocol: what `cluster` (and the tests and benchmarks) ask `clusterd`
/// over its Unix socket, and what it answers.
///
/// One request per connection: the client writes one JSON ``Control/Request`` followed by a
/// newline, the agent answers with one JSON ``Control/Response`` and closes. JSON because it is
/// what scripts want from `cluster nodes --json` anyway, and FoundationEssentials' coders keep the
/// static binaries small.
public enum Control {
    /// Where the agent listens unless told otherwise.
    public static let defaultSocketPath = "/run/clusterd/control.sock"
    /// The group whose members may use the control socket (besides root).
    public static let groupName = "cluster"
}
