import Admission
import ClusterControl
import Logging

extension Agent {
    /// The head's side of admission: the book of who asked, the policy, and the cluster key it
    /// seals for whoever is admitted. Answers the admission server and the control socket's
    /// `pending`, `admit` and `deny`.
    actor AdmissionDesk {
        private var book: Admission.Book
        private let clusterKey: [UInt8]
        private let clusterName: String
        private let logger: Logger

        init(policy: Admission.Policy, clusterKey: [UInt8], clusterName: String, logger: Logger) {
            self.book = Admission.Book(policy: policy)
            self.clusterKey = clusterKey
            self.clusterName = clusterName
            self.logger = logger
            if policy == .open {
                logger.warning("cluster.admission.policy is open: ANY machine that asks gets the cluster key; use it only on a network nobody else uses")
            }
        }

        /// The answer to one request from `source`.
        func answer(_ request: Admission.Request, from source: String, now: ContinuousClock.Instant) -> Admission.Response {
            let before = book.entries[request.fingerprint]?.decision
            switch book.consider(request, from: source, now: now) {
            case .pending(let fingerprint):
                if before == nil {
                    logger.notice("admission: \(request.hostname) (\(request.macs.joined(separator: ","))) at \(source) asks to join, fingerprint \(fingerprint); `cluster admit \(fingerprint)` admits it")
                }
                return .pending(fingerprint: fingerprint)
            case .denied(let reason):
                return .denied(reason)
            case .admit:
                do {
                    let sealed = try Admission.seal(clusterKey, for: request, cluster: clusterName)
                    if before != book.entries[request.fingerprint]?.decision || before == nil {
                        logger.notice("admission: \(request.hostname) at \(source) admitted (\(request.fingerprint))")
                    }
                    return .admitted(sealed)
                } catch {
                    logger.error("admission: cannot seal the key for \(request.hostname): \(error)")
                    return .denied("the head could not seal the key")
                }
            }
        }

        func list(now: ContinuousClock.Instant) -> [Control.Admission] {
            book.list().map { Self.row($0, now: now) }
        }

        func decide(_ selector: String, admit: Bool, by who: String, now: ContinuousClock.Instant) -> [Control.Admission] {
            let decided = admit ? book.admit(selector, by: who) : book.deny(selector, by: who)
            for entry in decided {
                logger.notice("admission: \(entry.request.hostname) (\(entry.fingerprint)) \(admit ? "admitted" : "denied") by \(who)")
            }
            return decided.map { Self.row($0, now: now) }
        }

        static func row(_ entry: Admission.Book.Entry, now: ContinuousClock.Instant) -> Control.Admission {
            let (state, who): (Control.Admission.State, String?) = switch entry.decision {
            case .waiting: (.waiting, nil)
            case .admitted(let by): (.admitted, by)
            case .denied(let by): (.denied, by)
            }
            return Control.Admission(
                fingerprint: entry.fingerprint, node: entry.request.node, hostname: entry.request.hostname,
                macs: entry.request.macs, serial: entry.request.serial, address: entry.source, state: state, decidedBy: who,
                firstSeenSecondsAgo: (now - entry.firstSeen).seconds, lastSeenSecondsAgo: (now - entry.lastSeen).seconds)
        }
    }
}
