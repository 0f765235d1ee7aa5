/// A simulated cluster: many nodes running the real membership gossip and balancing policy on a
/// simulated clock and network, to choose the balancer's defaults and measure them at scale.
public enum ClusterSimulator {}
