/// The version of livebuild, recorded in every manifest.
public enum LiveBuildVersion {
    public static let current = "0.1.0"
}
