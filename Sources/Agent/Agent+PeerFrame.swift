extension Agent {
    /// The first frame of a stream: a forwarded control request, or the start of a migration
    /// (the next frame is a ``Migration/Message``).
    struct PeerFrame: Codable, Sendable {
        var request: PeerRequest?
        var migration: Bool?

        init(request: PeerRequest) {
            self.request = request
        }

        /// The first frame of a migration stream.
        static let migrationStart = PeerFrame(migration: true)

        private init(migration: Bool) {
            self.migration = migration
        }
    }
}
