import NodeConfig

/// The `cluster` section is the node's: its model (`NodeConfig.ClusterSection`, what the node
/// decodes from the image's /etc/livebuild/profile.json), its keys and its rules
/// (`NodeConfig.Rules`) live in NodeConfig. This checks a profile against them, with the
/// position of each mistake; a key the model does not have is an error here, so nothing the
/// build accepts is ignored on the node.
extension ProfileDecoder {
    static func keys<Keys: CaseIterable & RawRepresentable>(_: Keys.Type) -> [String] where Keys.RawValue == String {
        Keys.allCases.map(\.rawValue)
    }

    static let clusterKeys = keys(NodeConfig.ClusterSection.CodingKeys.self)
    static let clusterTrustKeys = keys(NodeConfig.Trust.CodingKeys.self)
    static let clusterAdmissionKeys = keys(NodeConfig.AdmissionPolicy.CodingKeys.self)
    static let admissionPolicies = NodeConfig.Rules.admissionPolicies
    static let clusterHeadKeys = keys(NodeConfig.Head.CodingKeys.self)
    static let clusterSharedKeys = keys(NodeConfig.Shared.CodingKeys.self)
    static let clusterNodeKeys = keys(NodeConfig.NodeRule.CodingKeys.self)
    static let clusterMatchKeys = keys(NodeConfig.NodeRule.Match.CodingKeys.self)
    static let clusterTimingKeys = keys(NodeConfig.Timing.CodingKeys.self)
    static let clusterRoles = NodeConfig.Rules.roles

    /// A MAC address (`52:54:00:12:34:56`, or with dashes, any case), lowercase with colons.
    func decodeMAC(_ reader: NodeReader) throws(ProfileError) -> String {
        let text = try reader.string()
        guard NodeConfig.Rules.isMAC(text) else {
            throw reader.error("\"\(text)\" is not a MAC address like 52:54:00:12:34:56")
        }
        return NodeConfig.Rules.normalizedMAC(text)
    }

    /// Checks the `cluster` section's shape and values (the node runtime reads it as typed
    /// JSON, so every mistake is reported here with its position), and resolves `key` relative
    /// to the file it is written in.
    func decodeCluster(_ reader: NodeReader) throws(ProfileError) -> (value: JSONValue, keyPath: String?) {
        let object = try reader.object(allowing: Self.clusterKeys)
        if let name = object.optional("name") {
            let text = try name.nonEmptyString("a cluster name")
            guard NodeConfig.Rules.isClusterName(text) else {
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
            guard NodeConfig.Rules.isMulticastGroup(text) else {
                throw group.error("\"\(text)\" is not an IPv4 multicast address (224.0.0.0 to 239.255.255.255); the default is \(NodeConfig.Rules.defaultMulticastGroup)")
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
                    guard NodeConfig.Rules.isHostLabel(text) else {
                        throw hostname.error("\"\(text)\" is not a valid host name (letters, digits and '-', at most 63)")
                    }
                }
                if let role = rule.optional("role") { try decodeRole(role) }
                if let address = rule.optional("address") {
                    let text = try address.string()
                    guard NodeConfig.Rules.isIPv4WithPrefix(text) else {
                        throw address.error("\"\(text)\" is not an IPv4 address with prefix length, like 10.0.0.5/24")
                    }
                }
                if let gateway = rule.optional("gateway") {
                    let text = try gateway.string()
                    guard NodeConfig.Rules.isIPv4(text) else { throw gateway.error("\"\(text)\" is not an IPv4 address") }
                }
                if let labels = rule.optional("labels") { try decodeLabels(labels) }
            }
        }
        if let timing = object.optional("timing") {
            let fields = try timing.object(allowing: Self.clusterTimingKeys)
            var values = NodeConfig.Timing()
            for (key, range) in NodeConfig.Rules.timingRanges {
                values[key] = try fields.optional(key.rawValue)?.integer(in: range, what: key.rawValue)
            }
            if let problem = NodeConfig.Rules.timingProblem(values) {
                throw (fields.optional(problem.key.rawValue) ?? timing).error(problem.message)
            }
        }
        if let head = object.optional("head") {
            let fields = try head.object(allowing: Self.clusterHeadKeys)
            if let range = fields.optional("dhcpRange") {
                let text = try range.string()
                guard NodeConfig.Rules.isDHCPRange(text) else {
                    throw range.error("\"\(text)\" is not a DHCP range; expected FIRST,LAST or FIRST,LAST,NETMASK, like 10.77.0.10,10.77.0.200 (leave it out for proxy DHCP beside the LAN's server)")
                }
            }
        }
        if let shared = object.optional("shared") {
            let fields = try shared.object(allowing: Self.clusterSharedKeys)
            if let enabled = fields.optional("enabled") { _ = try enabled.bool() }
            if let path = fields.optional("path") {
                let text = try path.string()
                guard NodeConfig.Rules.isSharedPath(text) else {
                    throw path.error("shared directory \"\(text)\" must be an absolute path below /, without '..' or spaces, like /home")
                }
            }
            if let server = fields.optional("server") {
                let text = try server.nonEmptyString("the host that exports the shared directory")
                guard NodeConfig.Rules.isSharedServer(text) else {
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
}
