/// The load-balancing policy: given what a node knows about the cluster, which of its jobs
/// should move where. Pure functions of plain values (no clock, no sockets), so the agent, the
/// simulator and the tests run the same code.
public enum Balancer {}
