extension Agent {
    /// The core once the agent has one: the control socket opens before the node has an
    /// address (DHCP may take a while), and answers "starting" until then instead of refusing
    /// connections.
    actor CoreSlot {
        private(set) var core: Core?
        /// What the agent is waiting for, for the "starting" answer.
        private(set) var waitingFor = "starting"

        func set(_ core: Core) {
            self.core = core
        }

        func waiting(for what: String) {
            waitingFor = what
        }
    }
}
