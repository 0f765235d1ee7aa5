extension NodeConfig {
    /// Where a node's identity comes from.
    public enum IdentitySource: Sendable, Equatable {
        case mac(interface: String, mac: String)
        case productUUID(String)
        case serial(String)
        /// No MAC and no DMI identity (a VM without a network card or SMBIOS data): the
        /// machine id, which a live system regenerates each boot, so the id is per boot.
        case machineID(String)
    }

    /// The node's stable, unique identifier: the primary interface's MAC address (48 bits,
    /// globally unique by allocation), else a 64-bit FNV-1a hash of the DMI product UUID or
    /// serial; as a last resort the (per-boot) machine id. Never derived from IP addresses
    /// (openMosix's octet-based ids collided). Returns nil when the machine offers none of these.
    public static func nodeIdentity(_ facts: Facts) -> (id: UInt64, source: IdentitySource)? {
        if let primary = facts.primary, let bits = macBits(primary.mac) {
            return (bits, .mac(interface: primary.name, mac: primary.mac))
        }
        if let uuid = facts.productUUID?.lowercased(), !uuid.isEmpty, uuid != "00000000-0000-0000-0000-000000000000" {
            return (fnv1a(uuid) | (1 << 63), .productUUID(uuid))
        }
        if let serial = facts.dmiSerial, !serial.isEmpty {
            return (fnv1a(serial) | (1 << 63), .serial(serial))
        }
        if let machineID = facts.machineID, !machineID.isEmpty {
            return (fnv1a(machineID) | (1 << 63), .machineID(machineID))
        }
        return nil
    }

    /// The 48 bits of a MAC address (`aa:bb:cc:dd:ee:ff`), or nil if it is not one.
    static func macBits(_ mac: String) -> UInt64? {
        let parts = mac.split(separator: ":")
        guard parts.count == 6 else { return nil }
        var value: UInt64 = 0
        for part in parts {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            value = value << 8 | UInt64(byte)
        }
        return value
    }

    /// 64-bit FNV-1a: a stable hash with no dependencies (ids need stability, not secrecy).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
