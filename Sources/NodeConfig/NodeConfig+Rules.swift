extension NodeConfig {
    /// The rules for the `cluster` section's values, in one place: the build checks a profile
    /// with them (with the position of each value, `Profile`'s `ProfileDecoder+Cluster`), and
    /// the node checks what it resolves from the profile, its rules and the kernel command
    /// line with the same ones (``resolve(section:facts:)``, the agent's settings). Each says
    /// whether a value is good; the caller says what is wrong in its own terms (a profile
    /// error points at the value in the file, a node error names where the value came from).
    public enum Rules {
        /// The cluster name when the profile gives none.
        public static let defaultClusterName = "livebuild"
        /// The membership port when the profile gives none.
        public static let defaultPort = 7946
        /// The multicast discovery group when the profile gives none.
        public static let defaultMulticastGroup = "239.255.76.66"
        /// The roles a node may have (`node` unless something says otherwise).
        public static let roles = Role.allCases.map(\.rawValue)
        /// The admission policies (`manual` is the default).
        public static let admissionPolicies = ["manual", "listed", "open"]

        /// The allowed range of each `timing` field (milliseconds or counts).
        public static let timingRanges: [(key: Timing.CodingKeys, range: ClosedRange<Int>)] = [
            (.protocolPeriodMs, 10...60_000),
            (.probeTimeoutMs, 1...60_000),
            (.indirectProbes, 0...16),
            (.suspicionTimeoutMs, 10...600_000),
            (.gossipFanout, 1...64),
            (.retransmitMultiplier, 1...16),
        ]
        /// The protocol period and probe timeout when the profile gives none (Docs/membership.md;
        /// `Membership.Configuration`'s defaults, which a unit test holds to these).
        public static let defaultProtocolPeriodMs = 200
        public static let defaultProbeTimeoutMs = 100

        /// 1-64 letters, digits, '-' or '_' (it names the key file).
        public static func isClusterName(_ text: String) -> Bool {
            !text.isEmpty && text.count <= 64 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }

        /// One label of a host name (what a per-node rule's `hostname` is): letters, digits and
        /// '-', at most 63, not starting or ending with '-'.
        public static func isHostLabel<S: StringProtocol>(_ label: S) -> Bool {
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }

        /// A host name of dot-separated labels (a `cluster.hostname=` parameter may name a domain).
        public static func isHostname(_ text: String) -> Bool {
            text.count <= 253 && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isHostLabel($0) }
        }

        /// `10.0.0.5/24`.
        public static func isIPv4WithPrefix(_ text: String) -> Bool {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let prefix = Int(parts[1]), (0...32).contains(prefix) else { return false }
            return isIPv4(String(parts[0]))
        }

        /// 224.0.0.0 to 239.255.255.255.
        public static func isMulticastGroup(_ text: String) -> Bool {
            guard isIPv4(text), let first = Int(text.prefix { $0 != "." }) else { return false }
            return (224...239).contains(first)
        }

        /// `FIRST,LAST` or `FIRST,LAST,NETMASK`.
        public static func isDHCPRange(_ text: String) -> Bool {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            return (2...3).contains(parts.count) && parts.allSatisfy { isIPv4(String($0)) }
        }

        /// An absolute path below /, without '..' or spaces.
        public static func isSharedPath(_ text: String) -> Bool {
            text.hasPrefix("/") && text != "/" && !text.split(separator: "/").contains("..") && !text.contains(where: \.isWhitespace)
        }

        /// A host name or address, without a path.
        public static func isSharedServer(_ text: String) -> Bool {
            !text.isEmpty && !text.contains(where: { $0.isWhitespace || $0 == "/" })
        }

        /// Six pairs of hex digits separated by ':' or '-', any case.
        public static func isMAC(_ text: String) -> Bool {
            let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
            return text.count == 17 && parts.count == 6 && parts.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isHexDigit) }
        }

        /// `52-54-00-AB-CD-EF` → `52:54:00:ab:cd:ef`.
        public static func normalizedMAC(_ mac: String) -> String {
            String(mac.lowercased().map { $0 == "-" ? ":" : $0 })
        }

        /// What is wrong with the `timing` fields, naming the field, or nil.
        public static func timingProblem(_ timing: Timing) -> (key: Timing.CodingKeys, message: String)? {
            for (key, range) in timingRanges {
                if let value = timing[key], !range.contains(value) {
                    return (key, "\(key.rawValue) \(value): expected \(range.lowerBound) to \(range.upperBound)")
                }
            }
            // Either may be the default: a period of 80 ms with the default 100 ms probe timeout
            // is as wrong as a probe timeout written above the period.
            let period = timing.protocolPeriodMs ?? defaultProtocolPeriodMs
            let probe = timing.probeTimeoutMs ?? defaultProbeTimeoutMs
            if probe >= period {
                let key: Timing.CodingKeys = timing.probeTimeoutMs != nil ? .probeTimeoutMs : .protocolPeriodMs
                return (key, "probeTimeoutMs \(probe) must be shorter than protocolPeriodMs \(period), or indirect probes never run")
            }
            return nil
        }

        public static func isIPv4(_ text: String) -> Bool {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && (Int(part) ?? 256) <= 255
            }
        }
    }
}

extension NodeConfig.Timing {
    /// The field `key` names.
    public subscript(key: CodingKeys) -> Int? {
        get {
            switch key {
            case .protocolPeriodMs: protocolPeriodMs
            case .probeTimeoutMs: probeTimeoutMs
            case .indirectProbes: indirectProbes
            case .suspicionTimeoutMs: suspicionTimeoutMs
            case .gossipFanout: gossipFanout
            case .retransmitMultiplier: retransmitMultiplier
            }
        }
        set {
            switch key {
            case .protocolPeriodMs: protocolPeriodMs = newValue
            case .probeTimeoutMs: probeTimeoutMs = newValue
            case .indirectProbes: indirectProbes = newValue
            case .suspicionTimeoutMs: suspicionTimeoutMs = newValue
            case .gossipFanout: gossipFanout = newValue
            case .retransmitMultiplier: retransmitMultiplier = newValue
            }
        }
    }
}
