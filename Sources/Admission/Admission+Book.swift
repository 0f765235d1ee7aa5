extension Admission {
    /// The head's record of the nodes that asked to join: who is waiting, who was admitted or
    /// denied, and by whom. Bounded whatever arrives: at most ``capacity`` entries and
    /// ``perSource`` from one address, the least recently heard evicted first; entries not
    /// heard from for ``expiry`` are forgotten.
    public struct Book: Sendable {
        public static let capacity = 256
        public static let perSource = 4
        public static let expiry: Duration = .seconds(3600)

        public enum Decision: Sendable, Equatable {
            case waiting
            case admitted(by: String)
            case denied(by: String)
        }

        public struct Entry: Sendable, Equatable {
            public var request: Request
            public var fingerprint: String
            public var source: String
            public var firstSeen: ContinuousClock.Instant
            public var lastSeen: ContinuousClock.Instant
            public var decision: Decision
        }

        /// What to answer one request.
        public enum Verdict: Sendable, Equatable {
            case pending(fingerprint: String)
            case denied(String)
            case admit
        }

        public var policy: Policy
        public private(set) var entries: [String: Entry] = [:]

        public init(policy: Policy) {
            self.policy = policy
        }

        /// Records `request` (asked from `source` at `now`) and says what to answer.
        public mutating func consider(_ request: Request, from source: String, now: ContinuousClock.Instant) -> Verdict {
            forget(before: now - Self.expiry)
            let fingerprint = request.fingerprint
            if var entry = entries[fingerprint] {
                entry.lastSeen = now
                entry.source = source
                entry.request = request
                entries[fingerprint] = entry
            } else {
                makeRoom(for: source)
                entries[fingerprint] = Entry(
                    request: request, fingerprint: fingerprint, source: source, firstSeen: now, lastSeen: now, decision: .waiting)
            }
            if entries[fingerprint]?.decision == .waiting {
                switch policy {
                case .open:
                    entries[fingerprint]?.decision = .admitted(by: "policy open")
                case .listed(let macs) where !macs.isDisjoint(with: request.macs):
                    entries[fingerprint]?.decision = .admitted(by: "policy listed")
                case .listed, .manual:
                    break
                }
            }
            switch entries[fingerprint]?.decision ?? .waiting {
            case .waiting: return .pending(fingerprint: fingerprint)
            case .denied(let who): return .denied("denied by \(who)")
            case .admitted: return .admit
            }
        }

        /// Admits the entries `selector` names (``matching(_:)``); returns them.
        public mutating func admit(_ selector: String, by who: String) -> [Entry] {
            decide(selector, .admitted(by: who))
        }

        /// Denies the entries `selector` names; returns them.
        public mutating func deny(_ selector: String, by who: String) -> [Entry] {
            decide(selector, .denied(by: who))
        }

        /// Entries by first request, oldest first.
        public func list() -> [Entry] {
            entries.values.sorted { ($0.firstSeen, $0.fingerprint) < ($1.firstSeen, $1.fingerprint) }
        }

        /// The entries a selector names: `all` (every waiting one), a fingerprint or a prefix of
        /// at least 4 of its hex digits that names one entry, a MAC, a node id or a host name.
        public func matching(_ selector: String) -> [Entry] {
            let wanted = selector.lowercased()
            if wanted == "all" { return list().filter { $0.decision == .waiting } }
            let exact = list().filter {
                $0.fingerprint == wanted || $0.request.macs.contains(wanted) || $0.request.node == wanted
                    || $0.request.hostname.lowercased() == wanted
            }
            if !exact.isEmpty { return exact }
            let digits = wanted.filter { $0 != "-" }
            guard digits.count >= 4 else { return [] }
            let prefixed = list().filter { $0.fingerprint.filter { $0 != "-" }.hasPrefix(digits) }
            return prefixed.count == 1 ? prefixed : []
        }

        private mutating func decide(_ selector: String, _ decision: Decision) -> [Entry] {
            var decided: [Entry] = []
            for entry in matching(selector) {
                entries[entry.fingerprint]?.decision = decision
                if let updated = entries[entry.fingerprint] { decided.append(updated) }
            }
            return decided
        }

        private mutating func forget(before cutoff: ContinuousClock.Instant) {
            entries = entries.filter { $0.value.lastSeen >= cutoff }
        }

        /// Evicts so a new entry from `source` fits: that source's least recently heard entry
        /// when it has ``perSource``, then the least recently heard overall (waiting ones first).
        private mutating func makeRoom(for source: String) {
            let fromSource = entries.values.filter { $0.source == source }
            if fromSource.count >= Self.perSource, let oldest = fromSource.min(by: { $0.lastSeen < $1.lastSeen }) {
                entries[oldest.fingerprint] = nil
            }
            while entries.count >= Self.capacity {
                let waiting = entries.values.filter { !Self.isAdmitted($0) }
                let pool = waiting.isEmpty ? Array(entries.values) : waiting
                guard let oldest = pool.min(by: { $0.lastSeen < $1.lastSeen }) else { return }
                entries[oldest.fingerprint] = nil
            }
        }

        static func isAdmitted(_ entry: Entry) -> Bool {
            if case .admitted = entry.decision { return true }
            return false
        }
    }
}
