/// Child processes of node-side programs: one posix_spawn (``Processes/spawn(_:descriptors:environment:directory:)``)
/// and one place that waits for children (``Processes/Reaper``). Used by Jobs (jobs, criu), by
/// BootServer (dnsmasq) and by clusterd's helpers (exportfs, mount).
///
/// Node-side code: FoundationEssentials-level API and POSIX calls only; posix_spawn rather than
/// Foundation's Process, which the agent's small static binary does without.
public enum Processes {}
