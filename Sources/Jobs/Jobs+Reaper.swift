import CJobs
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Jobs {
    /// How a child ended.
    public enum Exit: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)

        init(status: Int32) {
            // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot call.
            let signal = status & 0x7F
            self = signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
        }
    }

    /// Collects every child of the agent as it ends, on one dedicated thread, and hands each
    /// exit to `handler`. The agent makes itself a child subreaper, so processes restored by
    /// CRIU (whose parent, criu, exits) become its children too and are reaped here.
    public final class Reaper: Sendable {
        let handler: @Sendable (pid_t, Exit) -> Void

        /// Makes the calling process a subreaper and starts the reaping thread.
        public init(handler: @escaping @Sendable (pid_t, Exit) -> Void) {
            self.handler = handler
            _ = cjobs_set_child_subreaper()
            let box = Unmanaged.passRetained(self)
            var thread = pthread_t()
            pthread_create(&thread, nil, { argument in
                guard let argument else { return nil }
                let reaper = Unmanaged<Reaper>.fromOpaque(argument).takeRetainedValue()
                reaper.loop()
                return nil
            }, box.toOpaque())
            pthread_detach(thread)
        }

        private func loop() {
            while true {
                var status: Int32 = 0
                let pid = waitpid(-1, &status, 0)
                if pid > 0 {
                    handler(pid, Exit(status: status))
                } else if errno == ECHILD {
                    usleep(50_000)
                }
            }
        }
    }
}
