/// The load-balancing policy: given what a node knows about the cluster, which of its jobs
/// should move where (openMosix/MOSIX style, with the opportunity-cost target choice of Amir et
/// al.). Pure functions of plain values (no clock, no sockets, no imports), so the agent, the
/// simulator and the tests run the same code; see Docs/balancing.md.
///
/// The entry point is ``Balancer/decide(local:jobs:peers:migrationInProgress:settings:)``.
public enum Balancer {}
