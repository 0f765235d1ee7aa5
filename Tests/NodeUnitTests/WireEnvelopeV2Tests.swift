import Testing
@testable import ClusterWire

/// Envelope v2: datagrams bound to their recipient, replay windows per (sender, session),
/// implausible sequence jumps refused, memory bounded.
@Suite struct WireEnvelopeV2Tests {
    static let key = Array(0..<32).map { UInt8($0) }
    static let a = Wire.NodeID(0xA)
    static let b = Wire.NodeID(0xB)
    static let c = Wire.NodeID(0xC)
    static let ping = Wire.Message.ping(probe: 1, updates: [])
    static let join = Wire.Message.join(WireMessageTests.update)

    static func keys() throws -> Wire.Keys { try Wire.Keys(clusterKey: key) }
    static func nonce(_ n: UInt8) -> [UInt8] { Array(repeating: n, count: 12) }

    @Test func headerCarriesRecipientAndSession() throws {
        var sealer = Wire.Sealer(keys: try Self.keys(), sender: Self.a, session: 0x0102_0304_0506_0708)
        let datagram = try sealer.seal(Self.ping, to: Self.b, nonce: Self.nonce(9))
        #expect(Wire.Envelope.headerSize == 48)
        #expect(Array(datagram.prefix(4)) == Array("LBC".utf8) + [2])
        #expect(Array(datagram[4..<12]) == [0, 0, 0, 0, 0, 0, 0, 0xA], "sender")
        #expect(Array(datagram[12..<20]) == [0, 0, 0, 0, 0, 0, 0, 0xB], "recipient")
        #expect(Array(datagram[20..<28]) == [1, 2, 3, 4, 5, 6, 7, 8], "session")
        #expect(Array(datagram[28..<36]) == [0, 0, 0, 0, 0, 0, 0, 1], "sequence starts at 1")
        #expect(Array(datagram[36..<48]) == Self.nonce(9))
    }

    @Test func datagramSealedForBIsRejectedByC() throws {
        var sealer = Wire.Sealer(keys: try Self.keys(), sender: Self.a, session: 1)
        var openerB = Wire.Opener(keys: try Self.keys(), recipient: Self.b)
        var openerC = Wire.Opener(keys: try Self.keys(), recipient: Self.c)
        let datagram = try sealer.seal(Self.ping, to: Self.b)
        #expect(openerC.open(datagram).rejection == .wrongRecipient)
        #expect(openerB.open(datagram).message == Self.ping)
    }

    @Test func anyRecipientIsAcceptedOnlyForJoin() throws {
        var sealer = Wire.Sealer(keys: try Self.keys(), sender: Self.a, session: 1)
        var opener = Wire.Opener(keys: try Self.keys(), recipient: Self.b)
        #expect(opener.open(try sealer.seal(Self.join, to: .anyRecipient)).message == Self.join)
        #expect(opener.open(try sealer.seal(Self.ping, to: .anyRecipient)).rejection == .unaddressed)
        #expect(opener.open(try sealer.seal(.gossip(updates: []), to: .anyRecipient)).rejection == .unaddressed)
        #expect(opener.open(try sealer.seal(Self.join, to: Self.b)).message == Self.join, "a join may name its recipient")
    }

    @Test func forgedMaximalSequenceDoesNotLockTheSenderOut() throws {
        var victim = Wire.Sealer(keys: try Self.keys(), sender: Self.a, session: 42)
        // A cluster-key holder forging authentic datagrams in the victim's own session.
        var forger = Wire.Sealer(keys: try Self.keys(), sender: Self.a, session: 42)
        var opener = Wire.Opener(keys: try Self.keys(), recipient: Self.b)
        #expect(opener.open(try victim.seal(Self.ping, to: Self.b)).message != nil)
        for (index, sequence) in [UInt64.max - 1, .max, 1 << 40].enumerated() {
            let forged = try forger.seal(plaintext: Self.ping.encoded(), to: Self.b, sequence: sequence, nonce: Self.nonce(UInt8(index)))
            #expect(opener.open(forged).rejection == .tooFarAhead)
        }
        #expect(opener.windows.window(sender: Self.a, session: 42)?.highest == 1)
        #expect(opener.open(try victim.seal(Self.ping, to: Self.b)).message != nil, "the real sender is still accepted")
    }

    @Test func aPlausibleForgeryIsHealedByANewSession() throws {
        var victim = Wire.Sealer(keys: try Self.keys(), sender: Self.a, session: 42)
        var forger = Wire.Sealer(keys: try Self.keys(), sender: Self.a, session: 42)
        var opener = Wire.Opener(keys: try Self.keys(), recipient: Self.b)
        #expect(opener.open(try victim.seal(Self.ping, to: Self.b)).message != nil)
        let forged = try forger.seal(plaintext: Self.ping.encoded(), to: Self.b, sequence: Wire.ReplayWindow.maxJump, nonce: Self.nonce(1))
        #expect(opener.open(forged).message != nil)
        #expect(opener.open(try victim.seal(Self.ping, to: Self.b)).rejection == .tooOld, "locked out in this session")
        victim.startSession(43)
        #expect(victim.nextSequence == 1)
        #expect(opener.open(try victim.seal(Self.ping, to: Self.b)).message != nil, "a new session is accepted at once")
    }

    @Test func senderRestartingWithANewSessionIsAcceptedAtOnce() throws {
        var before = Wire.Sealer(keys: try Self.keys(), sender: Self.a, session: 1)
        var opener = Wire.Opener(keys: try Self.keys(), recipient: Self.b)
        for _ in 0..<1000 { _ = opener.open(try before.seal(Self.ping, to: Self.b)) }
        var after = Wire.Sealer(keys: try Self.keys(), sender: Self.a, session: 2)
        #expect(after.nextSequence == 1)
        #expect(opener.open(try after.seal(Self.ping, to: Self.b)).message != nil)
        // The old session's datagrams still in flight are judged by the old session's window.
        let late = try before.seal(Self.ping, to: Self.b)
        #expect(opener.open(late).message != nil)
        #expect(opener.open(late).rejection == .replayed)
    }

    @Test func sessionsPerSenderAreBoundedLeastRecentlyAcceptedFirst() {
        var windows = Wire.SessionWindows()
        let sender = Wire.NodeID(1)
        for session in UInt64(0)..<100_000 {
            windows.accept(sender: sender, session: session, sequence: 1)
        }
        #expect(windows.senderCount == 1)
        #expect(windows.sessionCount == Wire.SessionWindows.sessionsPerSender)
        #expect(windows.window(sender: sender, session: 99_999) != nil)
        #expect(windows.window(sender: sender, session: 0) == nil)
    }

    @Test func sendersAreBoundedLeastRecentlyHeardFirst() {
        var windows = Wire.SessionWindows()
        let steady = Wire.NodeID(.max)
        for sender in UInt64(0)..<100_000 {
            windows.accept(sender: Wire.NodeID(sender), session: sender, sequence: 1)
            // A member that keeps talking is never the least recently heard.
            windows.accept(sender: steady, session: 1, sequence: sender + 1)
        }
        #expect(windows.senderCount <= Wire.SessionWindows.maxSenders)
        #expect(windows.sessionCount <= Wire.SessionWindows.maxSenders * Wire.SessionWindows.sessionsPerSender)
        #expect(windows.window(sender: steady, session: 1)?.highest == 100_000)
        #expect(windows.window(sender: Wire.NodeID(99_999), session: 99_999) != nil)
        #expect(windows.window(sender: Wire.NodeID(0), session: 0) == nil)
    }

    @Test func openerWindowsStayBoundedUnderAFloodOfSenders() throws {
        let keys = try Self.keys()
        var opener = Wire.Opener(keys: keys, recipient: Self.b)
        for sender in UInt64(1)...UInt64(Wire.SessionWindows.maxSenders + 500) {
            var sealer = Wire.Sealer(keys: keys, sender: Wire.NodeID(sender), session: sender)
            #expect(opener.open(try sealer.seal(Self.ping, to: Self.b)).message != nil)
        }
        #expect(opener.windows.senderCount <= Wire.SessionWindows.maxSenders)
    }
}
