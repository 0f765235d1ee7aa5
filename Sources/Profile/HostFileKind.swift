/// What a path on the build host is.
enum HostFileKind: Sendable, Equatable {
    case file
    case directory
}
