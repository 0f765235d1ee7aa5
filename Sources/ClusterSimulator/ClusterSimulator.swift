/// A simulated cluster: many nodes running the real membership gossip (``Membership/State``) and
/// balancing policy (``Balancer/decide(local:jobs:peers:migrationInProgress:settings:)``) on a
/// simulated clock and network, with CPU-bound jobs shared out by processor sharing. Used to
/// choose the balancer's defaults and to measure them at 1,000 nodes; see Docs/balancing.md.
///
/// The entry point is ``ClusterSimulator/run(_:progress:)``.
public enum ClusterSimulator {}
