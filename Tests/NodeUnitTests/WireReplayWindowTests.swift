import Testing
@testable import ClusterWire

@Suite struct WireReplayWindowTests {
    @Test func firstSequenceIsFreshEvenZero() {
        var window = Wire.ReplayWindow()
        #expect(window.accept(0) == .fresh)
        #expect(window.accept(0) == .replayed)
    }

    @Test func duplicateIsReplayed() {
        var window = Wire.ReplayWindow()
        #expect(window.accept(100) == .fresh)
        #expect(window.accept(100) == .replayed)
        #expect(window.verdict(for: 100) == .replayed)
    }

    @Test func oldestInsideWindowIsAcceptedOnce() {
        var window = Wire.ReplayWindow()
        window.accept(100)
        #expect(window.accept(100 - 63) == .fresh)
        #expect(window.accept(100 - 63) == .replayed)
    }

    @Test func justBelowWindowIsTooOld() {
        var window = Wire.ReplayWindow()
        window.accept(100)
        #expect(window.verdict(for: 100 - 64) == .tooOld)
        #expect(window.accept(36) == .tooOld)
        #expect(window.verdict(for: 0) == .tooOld)
    }

    @Test func slidingKeepsBitsThatStayInside() {
        var window = Wire.ReplayWindow()
        window.accept(10)
        window.accept(12)
        window.accept(20)  // slides by 8
        #expect(window.verdict(for: 10) == .replayed)
        #expect(window.verdict(for: 12) == .replayed)
        #expect(window.verdict(for: 11) == .fresh)
        #expect(window.highest == 20)
    }

    @Test func slideByExactlyTheWindowForgetsEverything() {
        var window = Wire.ReplayWindow()
        window.accept(1000)
        window.accept(1000 + 64)
        #expect(window.verdict(for: 1000) == .tooOld)
        #expect(window.verdict(for: 1001) == .fresh)
        #expect(window.verdict(for: 1064) == .replayed)
    }

    @Test func implausibleJumpIsTooFarAheadAndLeavesTheWindowAlone() {
        var window = Wire.ReplayWindow()
        window.accept(1)
        #expect(window.accept(.max) == .tooFarAhead)
        #expect(window.accept(.max - 1) == .tooFarAhead)
        #expect(window.highest == 1)
        #expect(window.accept(1 + Wire.ReplayWindow.maxJump + 1) == .tooFarAhead)
        #expect(window.accept(1 + Wire.ReplayWindow.maxJump) == .fresh, "the largest plausible jump")
        #expect(window.verdict(for: 1) == .tooOld)
        #expect(window.verdict(for: 1 + Wire.ReplayWindow.maxJump - 63) == .fresh)
    }

    @Test func emptyWindowRefusesAFirstSequenceFarFromOne() {
        let window = Wire.ReplayWindow()
        #expect(window.verdict(for: Wire.ReplayWindow.maxJump) == .fresh)
        #expect(window.verdict(for: Wire.ReplayWindow.maxJump + 1) == .tooFarAhead)
        #expect(window.verdict(for: .max) == .tooFarAhead)
    }

    @Test func everySequenceOfAShuffledBurstIsAcceptedOnce() {
        var window = Wire.ReplayWindow()
        var generator = SystemRandomNumberGenerator()
        let burst = Array(UInt64(500)..<UInt64(564)).shuffled(using: &generator)
        for sequence in burst { #expect(window.accept(sequence) == .fresh) }
        for sequence in burst { #expect(window.accept(sequence) == .replayed) }
    }
}
