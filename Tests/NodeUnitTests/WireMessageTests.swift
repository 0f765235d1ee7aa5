import Testing
@testable import ClusterWire

@Suite struct WireMessageTests {
    static let address = Wire.Address(host: "10.0.0.7", port: 7946)
    static let load = Wire.NodeLoad(
        cpus: 16, cpuMHz: 3200, loadMilli: 1500, freeMemoryKiB: 32 << 20, runningJobs: 3, agentVersion: "0.1.0",
        hostname: "node-4c4201", bootTime: 1_790_000_000, memoryTotalKiB: 64 << 20, acceptsJobs: true
    )
    static let update = Wire.MemberUpdate(
        node: Wire.NodeID(0xDEAD_BEEF_0000_0001), incarnation: 7, status: .suspect, address: address, load: load
    )
    static let other = Wire.MemberUpdate(
        node: Wire.NodeID(2), incarnation: .max, status: .dead,
        address: Wire.Address(host: "fd00::2", port: 1), load: Wire.NodeLoad(agentVersion: "ünïcode")
    )

    static let messages: [Wire.Message] = [
        .ping(probe: 0, updates: []),
        .ping(probe: .max, updates: [update, other]),
        .pingReq(probe: 42, target: Wire.NodeID(9), address: address, updates: [update]),
        .ack(probe: 1, updates: []),
        .ack(probe: 2, updates: [other]),
        .gossip(updates: []),
        .gossip(updates: Array(repeating: update, count: 24)),
        .join(update),
        .join(Wire.MemberUpdate(node: Wire.NodeID(0), incarnation: 0, status: .alive,
                                address: Wire.Address(host: "", port: 0), load: Wire.NodeLoad())),
        // The head: shares the cluster's directory and takes no jobs, or does.
        .join(Wire.MemberUpdate(node: Wire.NodeID(3), incarnation: 1, status: .alive, address: address,
                                load: Wire.NodeLoad(hostname: "head", sharesDirectory: true))),
        .gossip(updates: [Wire.MemberUpdate(node: Wire.NodeID(4), incarnation: 1, status: .alive, address: address,
                                            load: Wire.NodeLoad(acceptsJobs: true, sharesDirectory: true))]),
        // Labels and the placement switch.
        .gossip(updates: [Wire.MemberUpdate(node: Wire.NodeID(5), incarnation: 1, status: .alive, address: address,
                                            load: Wire.NodeLoad(labels: ["gpu": "yes", "rack": "a-1", "empty": ""], startsJobs: true))]),
    ]

    /// Labels that break the rules are refused where they are configured and where they arrive.
    @Test func labelsAreBoundedAndChecked() throws {
        #expect(Wire.NodeLoad.Labels.problem(["gpu": "yes"]) == nil)
        #expect(Wire.NodeLoad.Labels.problem(["": "x"]) != nil)
        #expect(Wire.NodeLoad.Labels.problem(["a b": "x"]) != nil)
        #expect(Wire.NodeLoad.Labels.problem(["a": "x,y=z"]) != nil)
        #expect(Wire.NodeLoad.Labels.problem(Dictionary(uniqueKeysWithValues: (0..<17).map { ("k\($0)", "") })) != nil)
        #expect(Wire.NodeLoad.Labels.decode("a=1,a=2") == nil, "a key twice")
        #expect(Wire.NodeLoad.Labels.decode("a") == nil)
        #expect(Wire.NodeLoad.Labels.decode("a=1,b=") == ["a": "1", "b": ""])
        var bytes = Wire.Message.gossip(updates: [Wire.MemberUpdate(
            node: Wire.NodeID(5), incarnation: 1, status: .alive, address: Self.address, load: Wire.NodeLoad(labels: ["gpu": "yes"]))]).encoded()
        // Turn "gpu=yes" into "gpu yes": no longer a label list.
        let at = try #require(bytes.indices.dropLast(6).first { Array(bytes[$0..<$0 + 7]) == Array("gpu=yes".utf8) })
        bytes[at + 3] = UInt8(ascii: " ")
        #expect(throws: Wire.DecodingError.invalidText(field: "load.labels")) { try Wire.Message.decode(bytes) }
        #expect(Wire.Message.encodedSize(of: Self.update) == Wire.Message.join(Self.update).encoded().count - 2)
    }

    @Test(arguments: messages)
    func roundTrip(message: Wire.Message) throws {
        let bytes = message.encoded()
        #expect(bytes[0] == Wire.version)
        #expect(bytes[1] == message.kind.rawValue)
        #expect(try Wire.Message.decode(bytes) == message)
    }

    @Test func pingLayoutIsBigEndian() {
        #expect(Wire.Message.ping(probe: 0x0102_0304, updates: []).encoded() == [1, 1, 1, 2, 3, 4, 0, 0])
    }

    @Test func gossipOfEightUpdatesFitsADatagram() {
        let bytes = Wire.Message.gossip(updates: Array(repeating: Self.update, count: 8)).encoded()
        #expect(bytes.count < 1400 - Wire.Envelope.headerSize - Wire.Envelope.tagSize)
    }

    @Test func joinReplyChunkFitsADatagram() {
        var update = Self.update
        update.address = Wire.Address(host: "fd00:1234:5678:9abc:def0:1234:5678:9abc", port: 7946)
        update.load.hostname = String(repeating: "h", count: 32)
        update.load.agentVersion = "10.20.30-dev"
        let bytes = Wire.Message.gossip(updates: Array(repeating: update, count: 8)).encoded()
        #expect(bytes.count <= 1400 - Wire.Envelope.headerSize - Wire.Envelope.tagSize)
    }

    @Test(arguments: messages)
    func everyTruncationIsRejected(message: Wire.Message) {
        let bytes = message.encoded()
        for length in 0..<bytes.count {
            #expect(throws: Wire.DecodingError.self) { try Wire.Message.decode(Array(bytes.prefix(length))) }
            do {
                _ = try Wire.Message.decode(Array(bytes.prefix(length)))
            } catch {
                guard case .truncated = error else {
                    Issue.record("length \(length): \(error), expected truncated")
                    continue
                }
            }
        }
    }

    @Test func trailingBytesAreRejected() {
        let bytes = Wire.Message.ack(probe: 1, updates: []).encoded() + [0, 0]
        #expect(throws: Wire.DecodingError.trailingBytes(count: 2)) { try Wire.Message.decode(bytes) }
    }

    @Test func unknownVersionIsRejected() {
        var bytes = Wire.Message.gossip(updates: []).encoded()
        bytes[0] = 2
        #expect(throws: Wire.DecodingError.unknownVersion(2)) { try Wire.Message.decode(bytes) }
    }

    @Test func unknownTypeIsRejected() {
        var bytes = Wire.Message.gossip(updates: []).encoded()
        bytes[1] = 99
        #expect(throws: Wire.DecodingError.unknownType(99)) { try Wire.Message.decode(bytes) }
    }

    @Test func unknownStatusIsRejected() {
        var bytes = Wire.Message.join(Self.update).encoded()
        bytes[2 + 8 + 8] = 3
        #expect(throws: Wire.DecodingError.unknownStatus(3)) { try Wire.Message.decode(bytes) }
    }

    @Test func invalidUTF8IsRejected() {
        var bytes = Wire.Message.join(Self.update).encoded()
        bytes[2 + 8 + 8 + 1 + 2] = 0xFF  // first byte of the host text
        #expect(throws: Wire.DecodingError.invalidText(field: "address.host")) { try Wire.Message.decode(bytes) }
    }

    @Test func precedenceFollowsSWIM() {
        func update(_ incarnation: UInt64, _ status: Wire.MemberStatus) -> Wire.MemberUpdate {
            Wire.MemberUpdate(node: Wire.NodeID(1), incarnation: incarnation, status: status,
                              address: Self.address, load: Wire.NodeLoad())
        }
        #expect(update(2, .alive).overrides(update(1, .suspect)))
        #expect(!update(1, .alive).overrides(update(1, .suspect)))
        #expect(update(1, .suspect).overrides(update(1, .alive)))
        #expect(update(1, .dead).overrides(update(1, .suspect)))
        #expect(!update(1, .suspect).overrides(update(1, .dead)))
        #expect(update(2, .alive).overrides(update(1, .dead)))
        #expect(!update(1, .alive).overrides(update(1, .alive)))
    }
}
