extension Admission {
    /// Who the head admits without a person (`cluster.admission.policy`).
    public enum Policy: Sendable, Equatable {
        /// Only `cluster admit` (the default).
        case manual
        /// Nodes with one of these MACs (lowercase, colons), others by hand. A MAC is easily
        /// claimed by anyone on the LAN: this is convenience for a closed network.
        case listed(Set<String>)
        /// Everyone who asks: a throwaway lab on a network nobody else uses. Warned at build
        /// and at every boot.
        case open

        public var name: String {
            switch self {
            case .manual: "manual"
            case .listed: "listed"
            case .open: "open"
            }
        }
    }
}
