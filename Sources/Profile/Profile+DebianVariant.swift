extension Profile {
    /// An mmdebstrap `--variant`.
    public enum DebianVariant: String, Sendable, Equatable, CaseIterable {
        case extract, custom, essential, apt, required, minbase, buildd, important, debootstrap, standard
    }
}
