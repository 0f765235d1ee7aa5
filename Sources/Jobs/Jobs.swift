/// Migratable jobs on one node, the way MOSIX's `mosrun` starts them: each job in its own PID
/// namespace with its session leader as the namespace's init, stdin from /dev/null, stdout and
/// stderr to files in the job's directory, running as the user who asked for it. A job's tree
/// can then be checkpointed and restored on any node without PID clashes.
///
/// Node-side code: FoundationEssentials-level API and POSIX calls only.
public enum Jobs {}
