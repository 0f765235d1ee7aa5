import ClusterWire
/// Membership namespace.
public enum Membership {}
