extension Processes {
    /// How a child ended.
    public enum Exit: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)

        /// From a wait status (wait4's).
        init(status: Int32) {
            // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot call.
            let signal = status & 0x7F
            self = signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
        }
    }
}
