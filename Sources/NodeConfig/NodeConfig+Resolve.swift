import NodeError
extension NodeConfig {
    /// Applies the profile's section, then the first matching per-node rule, then `cluster.*`
    /// kernel parameters. Unknown `cluster.*` parameters and bad values are errors naming the
    /// parameter, so a typo at the boot prompt is not silently ignored.
    public static func resolve(section: ClusterSection, facts: Facts) throws(NodeConfig.Error) -> Resolved {
        guard let identity = nodeIdentity(facts) else {
            throw Error(.input, "this machine has no network interface with a MAC address, no DMI product UUID or serial and no /etc/machine-id; cannot derive a node id")
        }
        let suffix = String(identity.id & 0xff_ffff, radix: 16)
        var resolved = Resolved(
            nodeID: identity.id, identity: identity.source,
            clusterName: Setting(Rules.defaultClusterName, .builtIn), role: Setting(.node, .builtIn),
            hostname: Setting("node-" + String(repeating: "0", count: 6 - suffix.count) + suffix, .builtIn),
            address: Setting(nil, .builtIn), gateway: Setting(nil, .builtIn), peers: Setting([], .builtIn),
            labels: Setting([:], .builtIn), sshAuthorizedKeys: Setting([], .builtIn))

        if let name = section.name { resolved.clusterName = Setting(name, .profile) }
        if let role = section.role { resolved.role = Setting(role, .profile) }
        if let peers = section.peers { resolved.peers = Setting(peers, .profile) }
        if let labels = section.labels { resolved.labels = Setting(labels, .profile) }
        if let keys = section.sshAuthorizedKeys { resolved.sshAuthorizedKeys = Setting(keys, .profile) }
        if let range = section.head?.dhcpRange { resolved.dhcpRange = Setting(range, .profile) }
        // A diskless node mounts the shared directory from the head it booted from.
        if let bootServer = bootServer(facts.kernelCommandLine) {
            resolved.sharedServer = Setting(bootServer.host, .kernel(parameter: bootServer.parameter))
        }
        if let shared = section.shared {
            if let path = shared.path { resolved.sharedPath = Setting(path, .profile) }
            if shared.enabled == false { resolved.sharedPath = Setting(nil, .profile) }
            if let server = shared.server { resolved.sharedServer = Setting(server, .profile) }
        }

        let macs = Set(facts.interfaces.map(\.mac))
        if let (index, rule) = section.nodes?.enumerated().first(where: { _, rule in
            (rule.match.mac.map { macs.contains(Rules.normalizedMAC($0)) } ?? false)
                || (rule.match.serial.map { $0 == facts.dmiSerial } ?? false)
        }) {
            let source = Source.rule(index: index)
            if let hostname = rule.hostname { resolved.hostname = Setting(hostname, source) }
            if let role = rule.role { resolved.role = Setting(role, source) }
            if let address = rule.address { resolved.address = Setting(address, source) }
            if let gateway = rule.gateway { resolved.gateway = Setting(gateway, source) }
            if let labels = rule.labels { resolved.labels = Setting(resolved.labels.value.merging(labels) { _, new in new }, source) }
        }

        for token in facts.kernelCommandLine.split(separator: " ") where token.hasPrefix("cluster.") {
            let parameter = String(token)
            guard let equals = token.firstIndex(of: "=") else {
                throw Error(.input, "kernel parameter \(parameter): expected cluster.KEY=VALUE")
            }
            let key = String(token[token.index(token.startIndex, offsetBy: 8)..<equals])
            let value = String(token[token.index(after: equals)...])
            let source = Source.kernel(parameter: parameter)
            switch key {
            case "name": resolved.clusterName = Setting(value, source)
            case "role":
                guard let role = Role(rawValue: value) else {
                    throw Error(.input, "kernel parameter \(parameter): expected cluster.role=node or cluster.role=head")
                }
                resolved.role = Setting(role, source)
            case "hostname": resolved.hostname = Setting(value, source)
            case "address": resolved.address = Setting(value == "dhcp" ? nil : value, source)
            case "gateway": resolved.gateway = Setting(value, source)
            case "peers": resolved.peers = Setting(value.split(separator: ",").map(String.init), source)
            case "labels":
                var labels = resolved.labels.value
                for pair in value.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else {
                        throw Error(.input, "kernel parameter \(parameter): expected cluster.labels=KEY=VALUE,KEY=VALUE")
                    }
                    labels[String(parts[0])] = String(parts[1])
                }
                resolved.labels = Setting(labels, source)
            case "shared":
                if value == "off" {
                    resolved.sharedPath = Setting(nil, source)
                } else {
                    guard !value.isEmpty, !value.contains("/") else {
                        throw Error(.input, "kernel parameter \(parameter): expected cluster.shared=HOST (the server to mount the shared directory from) or cluster.shared=off")
                    }
                    resolved.sharedServer = Setting(value, source)
                }
            default:
                throw Error(.input, "kernel parameter \(parameter): unknown setting '\(key)'; known: name, role, hostname, address, gateway, peers, labels, shared")
            }
        }
        try validate(resolved)
        return resolved
    }

    /// The host of the live init's `fetch=http://HOST[:PORT]/...` or `live.nfs=HOST:/PATH`
    /// parameter: the server a diskless node booted from.
    public static func bootServer(_ commandLine: String) -> (host: String, parameter: String)? {
        for token in commandLine.split(separator: " ") {
            if token.hasPrefix("fetch=http://") {
                let rest = token.dropFirst("fetch=http://".count)
                let authority = rest.prefix { $0 != "/" }
                let host = authority.hasPrefix("[") ? String(authority.prefix { $0 != "]" }.dropFirst()) : String(authority.prefix { $0 != ":" })
                if !host.isEmpty { return (host, String(token)) }
            } else if token.hasPrefix("live.nfs=") {
                let host = String(token.dropFirst("live.nfs=".count).prefix { $0 != ":" })
                if !host.isEmpty { return (host, String(token)) }
            }
        }
        return nil
    }

    /// The resolved settings against ``Rules``, each error naming where the value came from.
    static func validate(_ resolved: Resolved) throws(NodeConfig.Error) {
        let hostname = resolved.hostname.value
        guard Rules.isHostname(hostname) else {
            throw Error(.input, "hostname '\(hostname)' from \(resolved.hostname.source) is not a valid host name (letters, digits and '-', dot-separated)")
        }
        if let address = resolved.address.value, !Rules.isIPv4WithPrefix(address) {
            throw Error(.input, "address '\(address)' from \(resolved.address.source): expected an IPv4 address with prefix length, like 10.0.0.5/24, or dhcp")
        }
        if let gateway = resolved.gateway.value, !Rules.isIPv4(gateway) {
            throw Error(.input, "gateway '\(gateway)' from \(resolved.gateway.source): expected an IPv4 address")
        }
        if let path = resolved.sharedPath.value, !Rules.isSharedPath(path) {
            throw Error(.input, "shared directory '\(path)' from \(resolved.sharedPath.source): expected an absolute path below / such as /home")
        }
        if let range = resolved.dhcpRange.value, !Rules.isDHCPRange(range) {
            throw Error(.input, "DHCP range '\(range)' from \(resolved.dhcpRange.source): expected FIRST,LAST or FIRST,LAST,NETMASK as IPv4 addresses")
        }
        if !Rules.isClusterName(resolved.clusterName.value) {
            throw Error(.input, "the cluster name '\(resolved.clusterName.value)' from \(resolved.clusterName.source) must be 1-64 letters, digits, '-' or '_'")
        }
    }
}
