import CJobs
import Glibc
import Synchronization

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
    /// exit to whoever waits for that pid (``exit(of:)``). The agent makes itself a child
    /// subreaper, so processes restored by CRIU (whose parent, criu, exits) become its children
    /// too and are reaped here. One reaper per process: `waitpid(-1)` would otherwise steal
    /// other waiters' children.
    public final class Reaper: Sendable {
        public static let shared = Reaper()

        /// How a child ended, and the CPU time it used: user + system, its own and that of
        /// every descendant it waited for (wait4's usage), so a job's wrapper or restored init
        /// accounts for the whole job.
        public struct Ended: Sendable, Equatable {
            public var exit: Exit
            public var cpuSeconds: Double
        }

        private struct Table {
            var waiters: [pid_t: CheckedContinuation<Ended, Never>] = [:]
            /// Exits nobody waited for yet (a child that ended before its spawner asked).
            var unclaimed: [pid_t: Ended] = [:]
        }

        private let table = Mutex(Table())

        private init() {
            _ = cjobs_set_child_subreaper()
            var thread = pthread_t()
            pthread_create(&thread, nil, { _ in
                Reaper.shared.loop()
                return nil
            }, nil)
            pthread_detach(thread)
        }

        /// Waits until child `pid` ends.
        public func exit(of pid: pid_t) async -> Exit {
            await ended(of: pid).exit
        }

        /// Waits until child `pid` ends: its exit and its CPU time.
        public func ended(of pid: pid_t) async -> Ended {
            await withCheckedContinuation { continuation in
                let done: Ended? = table.withLock { table in
                    if let exit = table.unclaimed.removeValue(forKey: pid) { return exit }
                    table.waiters[pid] = continuation
                    return nil
                }
                if let done { continuation.resume(returning: done) }
            }
        }

        private func loop() {
            while true {
                var status: Int32 = 0
                var usage = rusage()
                let pid = wait4(-1, &status, 0, &usage)
                guard pid > 0 else {
                    if errno == ECHILD { usleep(20_000) }
                    continue
                }
                let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                    + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
                let exit = Ended(exit: Exit(status: status), cpuSeconds: cpu)
                let waiter: CheckedContinuation<Ended, Never>? = table.withLock { table in
                    if let waiter = table.waiters.removeValue(forKey: pid) { return waiter }
                    table.unclaimed[pid] = exit
                    if table.unclaimed.count > 4096 { table.unclaimed.removeAll() }
                    return nil
                }
                waiter?.resume(returning: exit)
            }
        }
    }
}
