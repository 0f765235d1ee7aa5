extension ProfileDecoder {
    static let clusterKeys = [
        "name", "role", "key", "port", "multicast", "multicastGroup", "peers", "sshAuthorizedKeys", "labels",
        "nodes", "timing", "head", "shared", "trust", "admission",
    ]
    static let clusterTrustKeys = ["minimumPeerUID"]
    static let clusterAdmissionKeys = ["policy", "macs"]
    static let admissionPolicies = ["manual", "listed", "open"]
    static let clusterHeadKeys = ["dhcpRange"]
    static let clusterSharedKeys = ["enabled", "path", "server"]
    static let clusterNodeKeys = ["match", "hostname", "role", "address", "gateway", "labels"]
    static let clusterMatchKeys = ["mac", "serial"]
    static let clusterTimingKeys = [
        "protocolPeriodMs", "probeTimeoutMs", "indirectProbes", "suspicionTimeoutMs", "gossipFanout", "retransmitMultiplier",
    ]
    static let clusterRoles = ["node", "head"]

    /// Checks the `cluster` section's shape and values (the node runtime reads it as typed
    /// JSON, so every mistake is reported here with its position), and resolves `key` relative
    /// to the file it is written in.
    /// A MAC address (`52:54:00:12:34:56`, or with dashes, any case), lowercase with colons.
    func decodeMAC(_ reader: NodeReader) throws(ProfileError) -> String {
        let text = try reader.string()
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) else {
            throw reader.error("\"\(text)\" is not a MAC address like 52:54:00:12:34:56")
        }
        return Profile.Pxe.normalisedMAC(text)
    }

    func decodeCluster(_ reader: NodeReader) throws(ProfileError) -> (value: JSONValue, keyPath: String?) {
        let object = try reader.object(allowing: Self.clusterKeys)
        if let name = object.optional("name") {
            let text = try name.nonEmptyString("a cluster name")
            guard text.count <= 64, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw name.error("cluster name \"\(text)\" must be 1-64 letters, digits, '-' or '_' (it names the key file)")
            }
        }
        if let role = object.optional("role") { try decodeRole(role) }
        var keyPath: String?
        if let key = object.optional("key") {
            let path = try decodeHostPath(key)
            switch fileSystem.kind(of: path.absolute) {
            case .file: keyPath = path.absolute
            case .directory: throw key.error("cluster key \"\(path.written)\" is a directory; expected a file of 64 hex digits (\(path.absolute))")
            case nil: throw key.error("cluster key file \"\(path.written)\" not found (looked for \(path.absolute)); create one with `openssl rand -hex 32 > \(path.written)` or remove the key to have livebuild generate it")
            }
        }
        if let port = object.optional("port") { _ = try port.integer(in: 1...65535, what: "port") }
        if let multicast = object.optional("multicast") { _ = try multicast.bool() }
        if let group = object.optional("multicastGroup") {
            let text = try group.string()
            let octets = text.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
            guard octets.count == 4, octets.allSatisfy({ $0.map { (0...255).contains($0) } ?? false }),
                  let first = octets[0], (224...239).contains(first) else {
                throw group.error("\"\(text)\" is not an IPv4 multicast address (224.0.0.0 to 239.255.255.255); the default is 239.255.76.66")
            }
        }
        if let peers = object.optional("peers") {
            for peer in try peers.array() {
                let text = try peer.nonEmptyString("a peer address (HOST or HOST:PORT)")
                guard !text.contains(where: \.isWhitespace) else { throw peer.error("peer \"\(text)\" contains whitespace") }
            }
        }
        if let keys = object.optional("sshAuthorizedKeys") {
            for key in try keys.array() {
                let text = try key.nonEmptyString("an SSH public key line")
                guard text.hasPrefix("ssh-") || text.hasPrefix("ecdsa-") || text.hasPrefix("sk-") else {
                    throw key.error("expected an OpenSSH public key line (ssh-ed25519 AAAA... comment), found \"\(text.prefix(20))...\"")
                }
            }
        }
        if let labels = object.optional("labels") { try decodeLabels(labels) }
        if let nodes = object.optional("nodes") {
            for node in try nodes.array() {
                let rule = try node.object(allowing: Self.clusterNodeKeys)
                let match = try rule.required("match").object(allowing: Self.clusterMatchKeys)
                guard match.optional("mac") != nil || match.optional("serial") != nil else {
                    throw match.reader.error("a node rule must match by \"mac\" or \"serial\"")
                }
                if let mac = match.optional("mac") { _ = try decodeMAC(mac) }
                if let serial = match.optional("serial") { _ = try serial.nonEmptyString("a DMI serial number") }
                if let hostname = rule.optional("hostname") {
                    let text = try hostname.nonEmptyString("a host name")
                    guard text.count <= 63, text.first != "-", text.last != "-",
                          text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                        throw hostname.error("\"\(text)\" is not a valid host name (letters, digits and '-', at most 63)")
                    }
                }
                if let role = rule.optional("role") { try decodeRole(role) }
                if let address = rule.optional("address") {
                    let text = try address.string()
                    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
                    guard parts.count == 2, Self.isIPv4(String(parts[0])), let prefix = Int(parts[1]), (0...32).contains(prefix) else {
                        throw address.error("\"\(text)\" is not an IPv4 address with prefix length, like 10.0.0.5/24")
                    }
                }
                if let gateway = rule.optional("gateway") {
                    let text = try gateway.string()
                    guard Self.isIPv4(text) else { throw gateway.error("\"\(text)\" is not an IPv4 address") }
                }
                if let labels = rule.optional("labels") { try decodeLabels(labels) }
            }
        }
        if let timing = object.optional("timing") {
            let fields = try timing.object(allowing: Self.clusterTimingKeys)
            let period = try fields.optional("protocolPeriodMs")?.integer(in: 10...60_000, what: "protocolPeriodMs") ?? 200
            if let probe = fields.optional("probeTimeoutMs") {
                let value = try probe.integer(in: 1...60_000, what: "probeTimeoutMs")
                guard value < period else {
                    throw probe.error("probeTimeoutMs \(value) must be shorter than protocolPeriodMs \(period), or indirect probes never run")
                }
            }
            _ = try fields.optional("indirectProbes")?.integer(in: 0...16, what: "indirectProbes")
            _ = try fields.optional("suspicionTimeoutMs")?.integer(in: 10...600_000, what: "suspicionTimeoutMs")
            _ = try fields.optional("gossipFanout")?.integer(in: 1...64, what: "gossipFanout")
            _ = try fields.optional("retransmitMultiplier")?.integer(in: 1...16, what: "retransmitMultiplier")
        }
        if let head = object.optional("head") {
            let fields = try head.object(allowing: Self.clusterHeadKeys)
            if let range = fields.optional("dhcpRange") {
                let text = try range.string()
                let parts = text.split(separator: ",", omittingEmptySubsequences: false)
                guard (2...3).contains(parts.count), parts.allSatisfy({ Self.isIPv4(String($0)) }) else {
                    throw range.error("\"\(text)\" is not a DHCP range; expected FIRST,LAST or FIRST,LAST,NETMASK, like 10.77.0.10,10.77.0.200 (leave it out for proxy DHCP beside the LAN's server)")
                }
            }
        }
        if let shared = object.optional("shared") {
            let fields = try shared.object(allowing: Self.clusterSharedKeys)
            if let enabled = fields.optional("enabled") { _ = try enabled.bool() }
            if let path = fields.optional("path") {
                let text = try path.string()
                guard text.hasPrefix("/"), text != "/", !text.split(separator: "/").contains(".."), !text.contains(where: \.isWhitespace) else {
                    throw path.error("shared directory \"\(text)\" must be an absolute path below /, without '..' or spaces, like /home")
                }
            }
            if let server = fields.optional("server") {
                let text = try server.nonEmptyString("the host that exports the shared directory")
                guard !text.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                    throw server.error("shared server \"\(text)\" must be a host name or address, without a path")
                }
            }
        }
        if let trust = object.optional("trust") {
            let fields = try trust.object(allowing: Self.clusterTrustKeys)
            _ = try fields.optional("minimumPeerUID")?.integer(in: 0...4_294_967_294, what: "minimumPeerUID")
        }
        if let admission = object.optional("admission") {
            let fields = try admission.object(allowing: Self.clusterAdmissionKeys)
            var policy = "manual"
            if let value = fields.optional("policy") {
                policy = try value.string()
                guard Self.admissionPolicies.contains(policy) else {
                    throw value.error("unknown admission policy \"\(policy)\"; expected one of \(KeySuggestion.list(Self.admissionPolicies))")
                }
            }
            var macs: [NodeReader] = []
            if let list = fields.optional("macs") { macs = try list.array() }
            for mac in macs { _ = try decodeMAC(mac) }
            if policy == "listed" && macs.isEmpty {
                throw admission.error("admission policy \"listed\" needs \"macs\": the MACs of the nodes the head admits at once")
            }
        }
        return (reader.node.plainValue, keyPath)
    }

    private func decodeRole(_ reader: NodeReader) throws(ProfileError) {
        let text = try reader.string()
        guard Self.clusterRoles.contains(text) else {
            throw reader.error("unknown role \"\(text)\"; expected one of \(KeySuggestion.list(Self.clusterRoles))")
        }
    }

    private func decodeLabels(_ reader: NodeReader) throws(ProfileError) {
        for (key, keyLocation, value) in try reader.anyObject().entries {
            guard !key.isEmpty, !key.contains(where: { $0 == "=" || $0 == "," || $0.isWhitespace }) else {
                throw ProfileError(at: keyLocation, path: value.path, "label name \"\(key)\" must be non-empty without '=', ',' or spaces")
            }
            _ = try value.string()
        }
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) && (Int($0) ?? 256) <= 255 }
    }
}
