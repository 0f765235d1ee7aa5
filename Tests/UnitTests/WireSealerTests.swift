import Testing
@testable import ClusterWire

@Suite struct WireSealerTests {
    static let key = Array(0..<32).map { UInt8($0) }
    static let otherKey = Array(0..<32).map { UInt8(255 - $0) }
    static let message = Wire.Message.ping(probe: 5, updates: [WireMessageTests.update])
    static let node = Wire.NodeID(0xABCD)

    func pair(initialSequence: UInt64 = 1) throws -> (Wire.Sealer, Wire.Opener) {
        let keys = try Wire.Keys(clusterKey: Self.key)
        return (Wire.Sealer(keys: keys, sender: Self.node, initialSequence: initialSequence), Wire.Opener(keys: keys))
    }

    @Test func sealedMessageOpens() throws {
        var (sealer, opener) = try pair()
        let datagram = try sealer.seal(Self.message)
        #expect(datagram.count == Wire.Envelope.headerSize + Self.message.encoded().count + Wire.Envelope.tagSize)
        #expect(opener.open(datagram) == .ok(sender: Self.node, sequence: 1, message: Self.message))
        #expect(sealer.nextSequence == 2)
    }

    @Test func plaintextIsNotVisible() throws {
        var (sealer, _) = try pair()
        let message = Wire.Message.join(Wire.MemberUpdate(
            node: Self.node, incarnation: 1, status: .alive, address: Wire.Address(host: "secret-host-name", port: 1),
            load: Wire.NodeLoad()))
        let datagram = try sealer.seal(message)
        let needle = Array("secret-host-name".utf8)
        let found = (0...(datagram.count - needle.count)).contains { Array(datagram[$0..<$0 + needle.count]) == needle }
        #expect(!found)
    }

    @Test func noncesDifferBetweenDatagrams() throws {
        var (sealer, _) = try pair()
        let a = try sealer.seal(Self.message)
        let b = try sealer.seal(Self.message)
        #expect(a[20..<32] != b[20..<32])
    }

    @Test func everyFlippedBitFailsAuthentication() throws {
        var (sealer, _) = try pair()
        let datagram = try sealer.seal(Self.message)
        // Skip the magic and version (bytes 0..<4), which are checked before authentication.
        for index in 4..<datagram.count {
            var tampered = datagram
            tampered[index] ^= 0x01
            var opener = Wire.Opener(keys: try Wire.Keys(clusterKey: Self.key))
            #expect(opener.open(tampered).rejection == .authenticationFailed, "byte \(index)")
        }
    }

    @Test func wrongKeyFailsAuthentication() throws {
        var (sealer, _) = try pair()
        var opener = Wire.Opener(keys: try Wire.Keys(clusterKey: Self.otherKey))
        #expect(opener.open(try sealer.seal(Self.message)).rejection == .authenticationFailed)
    }

    @Test func forgeriesDoNotMoveTheWindow() throws {
        var (sealer, opener) = try pair()
        var forger = Wire.Sealer(keys: try Wire.Keys(clusterKey: Self.otherKey), sender: Self.node, initialSequence: 1_000)
        #expect(opener.open(try forger.seal(Self.message)).rejection == .authenticationFailed)
        #expect(opener.open(try sealer.seal(Self.message)).message == Self.message)
    }

    @Test(arguments: [0, 1, 10, Wire.Envelope.headerSize + Wire.Envelope.tagSize - 1])
    func truncatedDatagramIsRejected(length: Int) throws {
        var (sealer, opener) = try pair()
        let datagram = try sealer.seal(Self.message)
        #expect(opener.open(Array(datagram.prefix(length))).rejection == .truncated)
    }

    @Test func cutCiphertextFailsAuthentication() throws {
        var (sealer, opener) = try pair()
        let datagram = try sealer.seal(Self.message)
        #expect(opener.open(Array(datagram.dropLast(1))).rejection == .authenticationFailed)
    }

    @Test func foreignTrafficIsRejectedAsTruncated() throws {
        var (_, opener) = try pair()
        #expect(opener.open(Array(repeating: 0x41, count: 80)).rejection == .truncated)
    }

    @Test func unknownEnvelopeVersionIsRejected() throws {
        var (sealer, opener) = try pair()
        var datagram = try sealer.seal(Self.message)
        datagram[3] = 9
        #expect(opener.open(datagram).rejection == .unknownVersion)
    }

    @Test func replayIsRejected() throws {
        var (sealer, opener) = try pair()
        let datagram = try sealer.seal(Self.message)
        #expect(opener.open(datagram).message == Self.message)
        #expect(opener.open(datagram).rejection == .replayed)
    }

    @Test func tooOldIsRejected() throws {
        var (sealer, opener) = try pair()
        let old = try sealer.seal(Self.message)
        for _ in 0..<Int(Wire.ReplayWindow.size) {
            #expect(opener.open(try sealer.seal(Self.message)).message != nil)
        }
        #expect(opener.open(old).rejection == .tooOld)
    }

    @Test func reorderedWithinWindowIsAccepted() throws {
        var (sealer, opener) = try pair()
        let datagrams = try (0..<10).map { _ in try sealer.seal(Self.message) }
        for datagram in datagrams.reversed() {
            #expect(opener.open(datagram).message == Self.message)
        }
    }

    @Test func sendersHaveSeparateWindows() throws {
        let keys = try Wire.Keys(clusterKey: Self.key)
        var a = Wire.Sealer(keys: keys, sender: Wire.NodeID(1), initialSequence: 1_000)
        var b = Wire.Sealer(keys: keys, sender: Wire.NodeID(2), initialSequence: 1)
        var opener = Wire.Opener(keys: keys)
        #expect(opener.open(try a.seal(Self.message)).message != nil)
        #expect(opener.open(try b.seal(Self.message)).message != nil)
    }

    @Test func authenticUndecodablePlaintextIsMalformed() throws {
        var (sealer, opener) = try pair()
        let nonce = Array(repeating: UInt8(7), count: 12)
        let opened = opener.open(try sealer.seal(plaintext: [Wire.version, 99], nonce: nonce))
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
