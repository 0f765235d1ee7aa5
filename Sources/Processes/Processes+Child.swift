import Glibc
import Synchronization

extension Processes {
    /// A child started with ``spawn(_:descriptors:environment:directory:)`` that its owner
    /// polls and signals: QEMU under the VM runner, the loopback tests' agents. Its exit is
    /// collected with `waitpid` on its own pid, so it must not be used in a process that called
    /// ``Reaper/collectEveryChild()`` (the agent), whose reaper takes every child's exit.
    public final class Child: Sendable {
        public let pid: pid_t
        private let ended = Mutex<Exit?>(nil)

        public init(
            _ arguments: [String], descriptors: [Descriptor], environment: [String] = cleanEnvironment, directory: String? = nil
        ) throws(Failure) {
            pid = try spawn(arguments, descriptors: descriptors, environment: environment, directory: directory)
        }

        /// How it ended; nil while it runs.
        public var exit: Exit? {
            ended.withLock { ended in
                if ended == nil { ended = Self.wait(pid, blocking: false) }
                return ended
            }
        }

        public var isRunning: Bool { exit == nil }

        /// Sends `signal` while it runs.
        public func signal(_ signal: Int32) {
            ended.withLock { ended in
                if ended == nil { _ = Glibc.kill(pid, signal) }
            }
        }

        /// Blocks until it ends.
        @discardableResult
        public func waitUntilExit() -> Exit {
            ended.withLock { ended in
                if ended == nil { ended = Self.wait(pid, blocking: true) }
                return ended ?? .signaled(SIGKILL)
            }
        }

        /// Waits until it ends, polling every `interval`, for at most `timeout`: nil when it
        /// still runs then.
        public func waitForExit(timeout: Duration? = nil, interval: Duration = .milliseconds(50)) async throws -> Exit? {
            let deadline = timeout.map { ContinuousClock.now + $0 }
            while true {
                if let exit { return exit }
                if let deadline, ContinuousClock.now >= deadline { return nil }
                try await Task.sleep(for: interval)
            }
        }

        /// waitpid on `pid`: its exit, or nil while it runs (not blocking).
        private static func wait(_ pid: pid_t, blocking: Bool) -> Exit? {
            var status: Int32 = 0
            while true {
                let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
                if result == pid { return Exit(status: status) }
                if result == 0 { return nil }
                if errno == EINTR { continue }
                // ECHILD: reaped elsewhere; nothing more will be known of it.
                return .exited(-1)
            }
        }
    }

    /// This process's environment as `NAME=value` pairs, for a child that should see what the
    /// caller sees (QEMU, the tests' agents); helpers that run as root get ``cleanEnvironment``.
    public static func inheritedEnvironment() -> [String] {
        var pairs: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            pairs.append(String(cString: pointer))
            entry += 1
        }
        return pairs
    }
}
