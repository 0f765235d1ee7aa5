import Agent
import ClusterWire
import Testing

/// Post-copy's page relay between two agents' streams on loopback, with each side's criu
/// played by a thread doing blocking I/O on its socketpair end as criu does: request and
/// response round trips arrive byte-exact both ways, and closing both criu ends ends both
/// relays.
@Suite struct PageRelayTests {
    @Test func roundTripsCrossByteExactAndTheRelaysEnd() async throws {
        let keys = try Wire.Keys(clusterKey: [UInt8](repeating: 9, count: 32))
        let small = try await Agent.StreamProbe.relayRoundTrips(200, responseBytes: 4096 + 24, keys: keys)
        #expect(small.intact)
        // Responses larger than a frame (criu's 4 MiB transfers) span several.
        let large = try await Agent.StreamProbe.relayRoundTrips(3, responseBytes: (4 << 20) + 24, keys: keys)
        #expect(large.intact)
        print("page relay on loopback: 200 round trips of one page in \(small.time), 3 of 4 MiB in \(large.time)")
    }

    /// The stream breaks (the other agent is gone): the relay fails, and criu's end sees no end
    /// of its connection until the agent releases it, having decided the job's fate (a criu
    /// that saw it first would resume the source's copy, or zero-fill the destination's).
    @Test func aBrokenStreamDoesNotReachCRIUBeforeTheAgentReleasesIt() async throws {
        let keys = try Wire.Keys(clusterKey: [UInt8](repeating: 9, count: 32))
        let seen = try await Agent.StreamProbe.relayBreak(keys: keys)
        #expect(seen.relayFailed)
        #expect(!seen.endBeforeRelease)
        #expect(seen.endAfterRelease)
    }
}
