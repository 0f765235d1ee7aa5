import LiveBuild
import Synchronization
import Testing

/// One run per key among concurrent callers (the base tar: two profiles built at once with the
/// same base ran mmdebstrap twice into the same partial file, and the second move failed).
@Suite struct SharedWorkTests {
    /// Bodies that count their runs and wait until the test calls `open()`.
    final class Probe: Sendable {
        let runs = Mutex(0)
        private let opened = Mutex(false)
        let (started, starter) = AsyncStream<Void>.makeStream()

        func open() { opened.withLock { $0 = true } }

        func body(_ value: Int, fails: Bool = false) -> @Sendable () async throws -> Int {
            { [self] in
                runs.withLock { $0 += 1 }
                starter.yield()
                // Polled, so that every body running (the defect this suite catches) gets through.
                while !opened.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
                if fails { throw ProbeFailure() }
                return value
            }
        }
    }

    struct ProbeFailure: Error {}

    @Test func aSecondCallerWaitsForTheRunUnderWay() async throws {
        let work = SharedWork<Int>()
        let probe = Probe()
        let first = Task { try await work.run("base", probe.body(1)) }
        for await _ in probe.started { break }
        // The first run is blocked on the gate, so this call finds the key under way.
        let second = Task { try await work.run("base", probe.body(2)) }
        try await Task.sleep(for: .seconds(1))
        probe.open()
        let (a, b) = try await (first.value, second.value)
        #expect(probe.runs.withLock { $0 } == 1, "the body ran once")
        #expect(a.value == 1 && b.value == 1)
        #expect(!a.joined && b.joined)
    }

    @Test func aFailureReachesEveryCallerAndFreesTheKey() async throws {
        let work = SharedWork<Int>()
        let probe = Probe()
        let first = Task { try await work.run("base", probe.body(1, fails: true)) }
        for await _ in probe.started { break }
        let second = Task { try await work.run("base", probe.body(2)) }
        try await Task.sleep(for: .seconds(1))
        probe.open()
        await #expect(throws: ProbeFailure.self) { try await first.value }
        await #expect(throws: ProbeFailure.self) { try await second.value }
        // The key is free again: a later call runs its own body.
        let later = Probe()
        later.open()
        let third = try await work.run("base", later.body(3))
        #expect(third.value == 3 && !third.joined && later.runs.withLock { $0 } == 1)
    }

    @Test func differentKeysRunApart() async throws {
        let work = SharedWork<Int>()
        let (one, two) = (Probe(), Probe())
        one.open()
        two.open()
        async let a = work.run("bookworm", one.body(1))
        async let b = work.run("trixie", two.body(2))
        let (x, y) = try await (a, b)
        #expect(x.value == 1 && y.value == 2 && !x.joined && !y.joined)
    }
}
