extension Wire.Message {
    /// The message's binary form.
    ///
    /// Layout: `version:u8 type:u8` then the body. Integers are big-endian; text is `len:u16` +
    /// UTF-8; update lists are `count:u16` + updates (at most 65535, far beyond a datagram).
    ///
    /// - ping:    `probe:u32 updates`
    /// - pingReq: `probe:u32 target:u64 address updates`
    /// - ack:     `probe:u32 updates`
    /// - gossip:  `updates`
    /// - join:    `update`
    ///
    /// An address is `host:text port:u16`; an update is `node:u64 incarnation:u64 status:u8
    /// address cpus:u16 cpuMHz:u32 loadMilli:u32 freeMemoryKiB:u64 runningJobs:u32
    /// agentVersion:text hostname:text bootTime:u64 memoryTotalKiB:u64 flags:u8 [labels:text]`,
    /// flags bit 0 acceptsJobs, bit 1 sharesDirectory, bit 2 labels follow, bit 3 startsJobs (other bits zero,
    /// ignored when read); labels as ``Wire/NodeLoad/Labels`` encodes them, refused when they
    /// break its rules.
    public func encoded() -> [UInt8] {
        var writer = Wire.ByteWriter()
        writer.write(Wire.version)
        writer.write(kind.rawValue)
        switch self {
        case .ping(let probe, let updates), .ack(let probe, let updates):
            writer.write(probe)
            Self.write(updates, to: &writer)
        case .pingReq(let probe, let target, let address, let updates):
            writer.write(probe)
            writer.write(target.rawValue)
            Self.write(address, to: &writer)
            Self.write(updates, to: &writer)
        case .gossip(let updates):
            Self.write(updates, to: &writer)
        case .join(let update):
            Self.write(update, to: &writer)
        }
        return writer.bytes
    }

    /// Decodes exactly one message occupying all of `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(Wire.DecodingError) -> Wire.Message {
        var reader = Wire.ByteReader(bytes)
        let version = try reader.read(UInt8.self, field: "version")
        guard version == Wire.version else { throw .unknownVersion(version) }
        let type = try reader.read(UInt8.self, field: "type")
        guard let kind = Kind(rawValue: type) else { throw .unknownType(type) }
        let message: Wire.Message
        switch kind {
        case .ping:
            let probe = try reader.read(UInt32.self, field: "ping.probe")
            message = .ping(probe: probe, updates: try readUpdates(&reader))
        case .ack:
            let probe = try reader.read(UInt32.self, field: "ack.probe")
            message = .ack(probe: probe, updates: try readUpdates(&reader))
        case .pingReq:
            let probe = try reader.read(UInt32.self, field: "pingReq.probe")
            let target = Wire.NodeID(try reader.read(UInt64.self, field: "pingReq.target"))
            let address = try readAddress(&reader)
            message = .pingReq(probe: probe, target: target, address: address, updates: try readUpdates(&reader))
        case .gossip:
            message = .gossip(updates: try readUpdates(&reader))
        case .join:
            message = .join(try readUpdate(&reader))
        }
        guard reader.remaining == 0 else { throw .trailingBytes(count: reader.remaining) }
        return message
    }

    private static func write(_ address: Wire.Address, to writer: inout Wire.ByteWriter) {
        writer.write(text: address.host)
        writer.write(address.port)
    }

    private static func write(_ updates: [Wire.MemberUpdate], to writer: inout Wire.ByteWriter) {
        let count = min(updates.count, Int(UInt16.max))
        writer.write(UInt16(count))
        for update in updates.prefix(count) {
            write(update, to: &writer)
        }
    }

    private static func write(_ update: Wire.MemberUpdate, to writer: inout Wire.ByteWriter) {
        writer.write(update.node.rawValue)
        writer.write(update.incarnation)
        writer.write(update.status.rawValue)
        write(update.address, to: &writer)
        writer.write(update.load.cpus)
        writer.write(update.load.cpuMHz)
        writer.write(update.load.loadMilli)
        writer.write(update.load.freeMemoryKiB)
        writer.write(update.load.runningJobs)
        writer.write(text: update.load.agentVersion)
        writer.write(text: update.load.hostname)
        writer.write(update.load.bootTime)
        writer.write(update.load.memoryTotalKiB)
        let labels = update.load.labels.isEmpty ? nil : Wire.NodeLoad.Labels.encode(update.load.labels)
        writer.write(UInt8(update.load.acceptsJobs ? 1 : 0) | UInt8(update.load.sharesDirectory ? 2 : 0) | UInt8(labels == nil ? 0 : 4)
            | UInt8(update.load.startsJobs ? 8 : 0))
        if let labels { writer.write(text: labels) }
    }

    /// The bytes ``encoded()`` spends on `update`: what a sender counts against its datagram.
    public static func encodedSize(of update: Wire.MemberUpdate) -> Int {
        // node, incarnation, status, port, cpus, MHz, load, free, jobs, boot, total, flags; 2 per text.
        let fixed = 8 + 8 + 1 + 2 + 2 + 4 + 4 + 8 + 4 + 8 + 8 + 1
        let labels = update.load.labels.isEmpty ? 0 : 2 + Wire.NodeLoad.Labels.encode(update.load.labels).utf8.count
        return fixed + 2 + update.address.host.utf8.count + 2 + update.load.agentVersion.utf8.count
            + 2 + update.load.hostname.utf8.count + labels
    }

    private static func readAddress(_ reader: inout Wire.ByteReader) throws(Wire.DecodingError) -> Wire.Address {
        let host = try reader.readText(field: "address.host")
        let port = try reader.read(UInt16.self, field: "address.port")
        return Wire.Address(host: host, port: port)
    }

    private static func readUpdates(_ reader: inout Wire.ByteReader) throws(Wire.DecodingError) -> [Wire.MemberUpdate] {
        let count = try reader.read(UInt16.self, field: "updates.count")
        var updates: [Wire.MemberUpdate] = []
        updates.reserveCapacity(Int(count))
        for _ in 0..<count {
            updates.append(try readUpdate(&reader))
        }
        return updates
    }

    private static func readUpdate(_ reader: inout Wire.ByteReader) throws(Wire.DecodingError) -> Wire.MemberUpdate {
        let node = Wire.NodeID(try reader.read(UInt64.self, field: "update.node"))
        let incarnation = try reader.read(UInt64.self, field: "update.incarnation")
        let statusByte = try reader.read(UInt8.self, field: "update.status")
        guard let status = Wire.MemberStatus(rawValue: statusByte) else { throw .unknownStatus(statusByte) }
        let address = try readAddress(&reader)
        var load = Wire.NodeLoad(
            cpus: try reader.read(UInt16.self, field: "load.cpus"),
            cpuMHz: try reader.read(UInt32.self, field: "load.cpuMHz"),
            loadMilli: try reader.read(UInt32.self, field: "load.loadMilli"),
            freeMemoryKiB: try reader.read(UInt64.self, field: "load.freeMemoryKiB"),
            runningJobs: try reader.read(UInt32.self, field: "load.runningJobs"),
            agentVersion: try reader.readText(field: "load.agentVersion"),
            hostname: try reader.readText(field: "load.hostname"),
            bootTime: try reader.read(UInt64.self, field: "load.bootTime"),
            memoryTotalKiB: try reader.read(UInt64.self, field: "load.memoryTotalKiB")
        )
        let flags = try reader.read(UInt8.self, field: "load.flags")
        load.acceptsJobs = flags & 1 != 0
        load.sharesDirectory = flags & 2 != 0
        load.startsJobs = flags & 8 != 0
        if flags & 4 != 0 {
            let text = try reader.readText(field: "load.labels")
            guard let labels = Wire.NodeLoad.Labels.decode(text) else { throw .invalidText(field: "load.labels") }
            load.labels = labels
        }
        return Wire.MemberUpdate(node: node, incarnation: incarnation, status: status, address: address, load: load)
    }
}
