import Glibc

extension Processes {
    private final class ThreadBody {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread: for blocking work (a blocking socket, a wait)
    /// that must not hold one of the few threads of Swift's cooperative pool. If no thread can
    /// be made, `body` runs here rather than never.
    public static func onThread(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().body()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().body()
            return
        }
        pthread_detach(thread)
    }
}

extension Processes {
    /// Before an exec that starts someone else's program: no signal blocked and none ignored.
    /// A Swift program's threads run with most signals blocked, and the mask and ignored
    /// signals survive exec: a job started through the agent's helpers ignored SIGTERM, SIGINT
    /// and SIGUSR1 (its mask was fffffffe3bfbea27) until this.
    public static func resetSignalsForExec() {
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        for signal: Int32 in 1..<65 where signal != SIGKILL && signal != SIGSTOP {
            var action = sigaction()
            guard sigaction(signal, nil, &action) == 0 else { continue }
            // Only ignored ones (SIG_IGN is handler 1): a caught signal is reset by exec itself.
            if unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self) == 1 {
                Glibc.signal(signal, SIG_DFL)
            }
        }
    }
}
