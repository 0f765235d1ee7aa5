import Testing
@testable import ClusterWire

@Suite struct WireSealerTests {
    static let key = Array(0..<32).map { UInt8($0) }
    static let otherKey = Array(0..<32).map { UInt8(255 - $0) }
    static let message = Wire.Message.ping(probe: 5, updates: [WireMessageTests.update])
    static let node = Wire.NodeID(0xABCD)
    static let recipient = Wire.NodeID(0x1234)

    func pair() throws -> (Wire.Sealer, Wire.Opener) {
        let keys = try Wire.Keys(clusterKey: Self.key)
        return (Wire.Sealer(keys: keys, sender: Self.node, session: 7), Wire.Opener(keys: keys, recipient: Self.recipient))
    }

    @Test func sealedMessageOpens() throws {
        var (sealer, opener) = try pair()
        let datagram = try sealer.seal(Self.message, to: Self.recipient)
        #expect(datagram.count == Wire.Envelope.headerSize + Self.message.encoded().count + Wire.Envelope.tagSize)
        #expect(opener.open(datagram) == .ok(sender: Self.node, sequence: 1, message: Self.message))
        #expect(sealer.nextSequence == 2)
    }

    @Test func plaintextIsNotVisible() throws {
        var (sealer, _) = try pair()
        let message = Wire.Message.join(Wire.MemberUpdate(
            node: Self.node, incarnation: 1, status: .alive, address: Wire.Address(host: "secret-host-name", port: 1),
            load: Wire.NodeLoad()))
        let datagram = try sealer.seal(message, to: Self.recipient)
        let needle = Array("secret-host-name".utf8)
        let found = (0...(datagram.count - needle.count)).contains { Array(datagram[$0..<$0 + needle.count]) == needle }
        #expect(!found)
    }

    @Test func noncesDifferBetweenDatagrams() throws {
        var (sealer, _) = try pair()
        let a = try sealer.seal(Self.message, to: Self.recipient)
        let b = try sealer.seal(Self.message, to: Self.recipient)
        #expect(a[Wire.Envelope.nonceOffset..<Wire.Envelope.headerSize] != b[Wire.Envelope.nonceOffset..<Wire.Envelope.headerSize])
    }

    @Test func everyFlippedBitFailsAuthentication() throws {
        var (sealer, _) = try pair()
        let datagram = try sealer.seal(Self.message, to: Self.recipient)
        // Skip the magic and version (bytes 0..<4), which are checked before authentication. A
        // changed recipient is refused before that too, and a sequence changed in its high
        // bytes is implausibly far ahead.
        for index in 4..<datagram.count {
            var tampered = datagram
            tampered[index] ^= 0x01
            var opener = Wire.Opener(keys: try Wire.Keys(clusterKey: Self.key), recipient: Self.recipient)
            let rejection = opener.open(tampered).rejection
            switch index {
            case 12..<20: #expect(rejection == .wrongRecipient, "byte \(index)")
            case 28..<32: #expect(rejection == .tooFarAhead, "byte \(index)")
            default: #expect(rejection == .authenticationFailed, "byte \(index)")
            }
        }
    }

    @Test func wrongKeyFailsAuthentication() throws {
        var (sealer, _) = try pair()
        var opener = Wire.Opener(keys: try Wire.Keys(clusterKey: Self.otherKey), recipient: Self.recipient)
        #expect(opener.open(try sealer.seal(Self.message, to: Self.recipient)).rejection == .authenticationFailed)
    }

    @Test func forgeriesDoNotMoveTheWindow() throws {
        var (sealer, opener) = try pair()
        var forger = Wire.Sealer(keys: try Wire.Keys(clusterKey: Self.otherKey), sender: Self.node, session: 7)
        let forged = try forger.seal(
            plaintext: Self.message.encoded(), to: Self.recipient, sequence: 1_000, nonce: Array(repeating: 1, count: 12))
        #expect(opener.open(forged).rejection == .authenticationFailed)
        #expect(opener.open(try sealer.seal(Self.message, to: Self.recipient)).message == Self.message)
    }

    @Test(arguments: [0, 1, 10, Wire.Envelope.headerSize + Wire.Envelope.tagSize - 1])
    func truncatedDatagramIsRejected(length: Int) throws {
        var (sealer, opener) = try pair()
        let datagram = try sealer.seal(Self.message, to: Self.recipient)
        #expect(opener.open(Array(datagram.prefix(length))).rejection == .truncated)
    }

    @Test func cutCiphertextFailsAuthentication() throws {
        var (sealer, opener) = try pair()
        let datagram = try sealer.seal(Self.message, to: Self.recipient)
        #expect(opener.open(Array(datagram.dropLast(1))).rejection == .authenticationFailed)
    }

    @Test func foreignTrafficIsRejectedAsTruncated() throws {
        var (_, opener) = try pair()
        #expect(opener.open(Array(repeating: 0x41, count: 80)).rejection == .truncated)
    }

    @Test func unknownEnvelopeVersionIsRejected() throws {
        var (sealer, opener) = try pair()
        var datagram = try sealer.seal(Self.message, to: Self.recipient)
        datagram[3] = 9
        #expect(opener.open(datagram).rejection == .unknownVersion)
    }

    @Test func replayIsRejected() throws {
        var (sealer, opener) = try pair()
        let datagram = try sealer.seal(Self.message, to: Self.recipient)
        #expect(opener.open(datagram).message == Self.message)
        #expect(opener.open(datagram).rejection == .replayed)
    }

    @Test func tooOldIsRejected() throws {
        var (sealer, opener) = try pair()
        let old = try sealer.seal(Self.message, to: Self.recipient)
        for _ in 0..<Int(Wire.ReplayWindow.size) {
            #expect(opener.open(try sealer.seal(Self.message, to: Self.recipient)).message != nil)
        }
        #expect(opener.open(old).rejection == .tooOld)
    }

    @Test func reorderedWithinWindowIsAccepted() throws {
        var (sealer, opener) = try pair()
        let datagrams = try (0..<10).map { _ in try sealer.seal(Self.message, to: Self.recipient) }
        for datagram in datagrams.reversed() {
            #expect(opener.open(datagram).message == Self.message)
        }
    }

    @Test func sendersHaveSeparateWindows() throws {
        let keys = try Wire.Keys(clusterKey: Self.key)
        var a = Wire.Sealer(keys: keys, sender: Wire.NodeID(1), session: 1)
        var b = Wire.Sealer(keys: keys, sender: Wire.NodeID(2), session: 1)
        var opener = Wire.Opener(keys: keys, recipient: Self.recipient)
        for _ in 0..<100 { #expect(opener.open(try a.seal(Self.message, to: Self.recipient)).message != nil) }
        #expect(opener.open(try b.seal(Self.message, to: Self.recipient)).message != nil)
    }

    @Test func authenticUndecodablePlaintextIsMalformed() throws {
        var (sealer, opener) = try pair()
        let nonce = Array(repeating: UInt8(7), count: 12)
        let opened = opener.open(try sealer.seal(plaintext: [Wire.version, 99], to: Self.recipient, nonce: nonce))
        #expect(opened == .rejected(.malformed, detail: .unknownType(99)))
    }

    @Test func keysMustBe32Bytes() {
        #expect(throws: Wire.Keys.KeyError.wrongLength(16)) { try Wire.Keys(clusterKey: Array(repeating: 0, count: 16)) }
    }

    @Test func fingerprintIsStableAndHidesTheKey() throws {
        let keys = try Wire.Keys(clusterKey: Self.key)
        let fingerprint = keys.fingerprint
        #expect(fingerprint.count == 16)
        #expect(fingerprint.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(fingerprint == (try Wire.Keys(clusterKey: Self.key)).fingerprint)
        #expect(fingerprint != (try Wire.Keys(clusterKey: Self.otherKey)).fingerprint)
        let keyHex = Self.key.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(!keyHex.contains(fingerprint))
    }
}
