extension VirtualCluster {
    /// What one node boots: its own ISO, so one cluster can mix images.
    public struct NodeSpec: Sendable, Hashable {
        /// The ISO, attached read-only as a CD-ROM (several nodes may share one file).
        public var image: String

        public init(image: String) {
            self.image = image
        }
    }
}
