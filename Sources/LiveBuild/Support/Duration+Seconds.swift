extension Duration {
    /// The duration in seconds, for reports and manifests.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
