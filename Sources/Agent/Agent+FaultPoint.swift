import Glibc

extension Agent {
    /// Places in the migration protocol where a test can hold the agent still, so that it can
    /// kill a node at an exact step (Docs/migration.md, "Testing failures"). A point is armed by
    /// creating `/run/clusterd/faults/NAME` (root only; nothing creates it otherwise). An armed
    /// point creates `NAME.reached` and waits until `NAME` is removed: the node is then killed
    /// from outside, or the file removed to let it go on. Unarmed, a point costs one `access`.
    enum FaultPoint: String, Sendable {
        /// The destination has started to receive the first pre-copy round.
        case destinationReceiving = "destination-receiving"
        /// The source has the destination's confirmation that the job is restored, and has not
        /// yet dropped its own copy or sent the commit.
        case sourceAfterRestored = "source-after-restored"
        /// Post-copy: the destination runs the job, and the source holds its relay of pages
        /// before the next piece it would send.
        case sourcePulling = "source-pulling"

        static let directory = "/run/clusterd/faults"

        func pass() async {
            let armed = Self.directory + "/" + rawValue
            guard access(armed, F_OK) == 0 else { return }
            let marker = open(armed + ".reached", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            if marker >= 0 { close(marker) }
            while access(armed, F_OK) == 0 {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
