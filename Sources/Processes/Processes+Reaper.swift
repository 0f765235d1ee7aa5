import CJobs
import Glibc
import Synchronization

extension Processes {
    /// Waits for children and hands each exit to whoever waits for that pid (``ended(of:)``).
    /// One reaper per process.
    ///
    /// By default it waits for each child alone (wait4 on its pid, on a thread of its own), so
    /// it never takes the exit of a child someone else in the process waits for: enough for a
    /// program that starts a few helpers (`livebuild serve` and `clusterd serve-boot` with
    /// dnsmasq, `clusterd share` with mount and exportfs).
    ///
    /// The agent calls ``collectEveryChild()`` instead: it becomes a child subreaper, so
    /// processes restored by CRIU (whose parent, criu, exits) become its children, and one
    /// thread reaps every child with `wait4(-1)`, the adopted ones included; with no child it
    /// sleeps until a SIGCHLD. Nothing else in such a process may wait for children.
    public final class Reaper: Sendable {
        public static let shared = Reaper()

        /// How a child ended, and the CPU time it used: user + system, its own and that of
        /// every descendant it waited for (wait4's usage), so a job's wrapper or restored init
        /// accounts for the whole job.
        public struct Ended: Sendable, Equatable {
            public var exit: Exit
            public var cpuSeconds: Double
        }

        /// Someone waiting for a child: resumed with its end, or with nil when the wait was
        /// cancelled (``endedUnlessCancelled(of:)``); `token` tells waits for one pid apart.
        private struct Waiting: Sendable {
            let token: UInt64
            let resume: @Sendable (Ended?) -> Void
        }

        private struct Table {
            /// Whether the `wait4(-1)` thread runs (``collectEveryChild()``).
            var collectsEveryChild = false
            var waiters: [pid_t: Waiting] = [:]
            /// Exits nobody waited for yet (a child that ended before its spawner asked).
            var unclaimed: [pid_t: Ended] = [:]
            var nextToken: UInt64 = 0
        }

        private let table = Mutex(Table())

        private init() {}

        /// Makes this process a child subreaper and reaps every child from now on, on one
        /// thread. Call it before starting children; calling it again does nothing.
        public func collectEveryChild() {
            let start = table.withLock { table in
                defer { table.collectsEveryChild = true }
                return !table.collectsEveryChild
            }
            guard start else { return }
            _ = cjobs_set_child_subreaper()
            _ = cjobs_count_sigchld()
            var thread = pthread_t()
            pthread_create(&thread, nil, { _ in
                Reaper.shared.collectLoop()
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
                enum Next { case done(Ended), queued, waitAlone }
                let next: Next = table.withLock { table in
                    if let exit = table.unclaimed.removeValue(forKey: pid) { return .done(exit) }
                    guard table.collectsEveryChild else { return .waitAlone }
                    table.nextToken += 1
                    table.waiters[pid] = Waiting(token: table.nextToken) { ended in
                        if let ended { continuation.resume(returning: ended) }
                    }
                    return .queued
                }
                switch next {
                case .done(let ended): continuation.resume(returning: ended)
                case .queued: break
                case .waitAlone: waitAlone(for: pid) { continuation.resume(returning: $0) }
                }
            }
        }

        /// Like ``ended(of:)``, but returns nil as soon as the calling task is cancelled (an
        /// agent shutting down stops waiting for jobs that outlive it). After
        /// ``collectEveryChild()`` only; otherwise it waits as ``ended(of:)`` does.
        public func endedUnlessCancelled(of pid: pid_t) async -> Ended? {
            let token = table.withLock { table in
                table.nextToken += 1
                return table.nextToken
            }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Ended?, Never>) in
                    enum Next { case done(Ended?), queued, waitAlone }
                    let next: Next = table.withLock { table in
                        if let exit = table.unclaimed.removeValue(forKey: pid) { return .done(exit) }
                        guard table.collectsEveryChild else { return .waitAlone }
                        if Task.isCancelled { return .done(nil) }
                        table.waiters[pid] = Waiting(token: token) { continuation.resume(returning: $0) }
                        return .queued
                    }
                    switch next {
                    case .done(let ended): continuation.resume(returning: ended)
                    case .queued: break
                    case .waitAlone: waitAlone(for: pid) { continuation.resume(returning: $0) }
                    }
                }
            } onCancel: {
                let waiting: Waiting? = table.withLock { table in
                    guard table.waiters[pid]?.token == token else { return nil }
                    return table.waiters.removeValue(forKey: pid)
                }
                waiting?.resume(nil)
            }
        }

        /// One child, waited for on a thread of its own (a blocking wait4 must not hold one of
        /// the few threads of Swift's cooperative pool).
        private func waitAlone(for pid: pid_t, _ resume: @escaping @Sendable (Ended) -> Void) {
            let waiter = Unmanaged.passRetained(Waiter(pid: pid, resume: resume)).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { context in
                guard let context else { return nil }
                let waiter = Unmanaged<Waiter>.fromOpaque(context).takeRetainedValue()
                Reaper.shared.waitLoop(waiter)
                return nil
            }, waiter)
            if created == 0 {
                pthread_detach(thread)
            } else {
                // No thread: wait here (a rare failure; blocks one caller's thread).
                waitLoop(Unmanaged<Waiter>.fromOpaque(waiter).takeRetainedValue())
            }
        }

        private final class Waiter: Sendable {
            let pid: pid_t
            let resume: @Sendable (Ended) -> Void

            init(pid: pid_t, resume: @escaping @Sendable (Ended) -> Void) {
                self.pid = pid
                self.resume = resume
            }
        }

        private func waitLoop(_ waiter: Waiter) {
            while true {
                var status: Int32 = 0
                var usage = rusage()
                let pid = wait4(waiter.pid, &status, 0, &usage)
                if pid == waiter.pid {
                    waiter.resume(Ended(status: status, usage: usage))
                    return
                }
                if pid < 0 && errno == EINTR { continue }
                // ECHILD: ``collectEveryChild()`` started since, and its thread reaped the child
                // or will hand it over; queue up as its waiters do.
                let done: Ended? = table.withLock { table in
                    if let exit = table.unclaimed.removeValue(forKey: waiter.pid) { return exit }
                    let resume = waiter.resume
                    table.nextToken += 1
                    table.waiters[waiter.pid] = Waiting(token: table.nextToken) { ended in
                        if let ended { resume(ended) }
                    }
                    return nil
                }
                if let done { waiter.resume(done) }
                return
            }
        }

        private func collectLoop() {
            while true {
                var status: Int32 = 0
                var usage = rusage()
                let pid = wait4(-1, &status, 0, &usage)
                guard pid > 0 else {
                    // No child at all: sleep until one ends (every child starts from this
                    // process, and one that is reparented here does so while its parent, our
                    // child, ends: wait4 above sees that first).
                    if errno == ECHILD { cjobs_wait_for_sigchld() }
                    continue
                }
                let exit = Ended(status: status, usage: usage)
                let waiter: Waiting? = table.withLock { table in
                    if let waiter = table.waiters.removeValue(forKey: pid) { return waiter }
                    table.unclaimed[pid] = exit
                    if table.unclaimed.count > 4096 { table.unclaimed.removeAll() }
                    return nil
                }
                waiter?.resume(exit)
            }
        }
    }
}

extension Processes.Reaper.Ended {
    init(status: Int32, usage: rusage) {
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        self.init(exit: Processes.Exit(status: status), cpuSeconds: cpu)
    }
}
