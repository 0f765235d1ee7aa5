import ClusterWire

/// SWIM-style cluster membership (Das, Gupta, Motivala 2002, with the Lifeguard-style suspicion
/// scaling memberlist uses) as a pure state machine.
///
/// ``Membership/State`` takes ``Membership/Event``s (timer ticks, received ``Wire/Message``s,
/// local changes) with the current ``Membership/Instant`` and returns ``Membership/Action``s
/// (datagrams to send, member changes to report). It owns no socket and reads no clock; its
/// randomness comes from a seeded ``Membership/RandomSource``. The agent wires it to UDP and a
/// timer; tests wire it to a simulated network and a fake clock.
public enum Membership {}
