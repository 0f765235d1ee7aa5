import ClusterControl
import ClusterWire
import Logging
import Membership

extension Agent {
    /// A datagram ready for the socket.
    public struct Outgoing: Sendable, Equatable {
        public var bytes: [UInt8]
        public var destination: Wire.Address
    }

    /// The agent's protocol state behind one actor: the membership state machine, the sealer
    /// and opener, and the counters. Socket and timer tasks feed it events and send what it
    /// returns; it never touches a socket or a clock itself (time comes in as `now`).
    public actor Core {
        public let settings: Settings
        private var state: Membership.State
        private var sealer: Wire.Sealer
        private var opener: Wire.Opener
        private var counters = Control.Counters()
        private var refusalLog = LogLimiter()
        /// When this node last saw each member's state change, and that state.
        private var changedAt: [Wire.NodeID: Membership.Instant] = [:]
        private var lastStatus: [Wire.NodeID: Wire.MemberStatus] = [:]
        private let keyFingerprint: String
        private let streamKeys: Wire.Keys
        private let startedAt: Membership.Instant
        private let logger: Logger
        /// Where wire session ids come from: unpredictable, so a key holder who saw one session
        /// cannot prepare a lockout of the next.
        private let sessionIDs: @Sendable () -> UInt64
        /// When the current wire session started.
        private var sessionStarted: Membership.Instant

        /// The shortest time between two wire sessions started by refutations.
        ///
        /// A key holder can forge authentic datagrams in this node's current session and push
        /// peers' replay windows for it up to 2³² ahead per datagram, so they refuse this node's
        /// real datagrams as `tooOld`; peers then suspect it, and it hears the suspicion (their
        /// datagrams to it still open). Refuting starts a new session with a fresh window at
        /// every peer, which heals the lockout without a restart. At most once per 10 s: peers
        /// keep only a few sessions per sender, and a flood of forged suspicions must not churn
        /// through them.
        public static let sessionRenewalInterval: Duration = .seconds(10)

        /// Creates the core. `sessionIDs` gives the wire session ids, the first one now: random
        /// per agent start, so a restarted node is a new session to its peers, accepted at once
        /// with sequence numbers from 1. `seed` seeds the membership state machine's choices.
        public init(
            settings: Settings, address: Wire.Address, load: Wire.NodeLoad, now: Membership.Instant,
            seed: UInt64, logger: Logger,
            sessionIDs: @escaping @Sendable () -> UInt64 = { UInt64.random(in: .min ... .max) }
        ) throws(Failure) {
            let keys: Wire.Keys
            do {
                keys = try Wire.Keys(clusterKey: settings.clusterKey)
            } catch {
                throw Failure("the cluster key must be 32 bytes")
            }
            self.settings = settings
            self.keyFingerprint = keys.fingerprint
            self.streamKeys = keys
            self.state = Membership.State(
                me: settings.nodeID, address: address, load: load, incarnation: 0, seed: seed,
                configuration: settings.membership)
            self.sealer = Wire.Sealer(keys: keys, sender: settings.nodeID, session: sessionIDs())
            self.opener = Wire.Opener(keys: keys, recipient: settings.nodeID)
            self.sessionIDs = sessionIDs
            self.sessionStarted = now
            self.startedAt = now
            self.logger = logger
        }

        /// Starts joining through the static peers and the multicast group.
        public func join(seeds: [Wire.Address], now: Membership.Instant) -> [Outgoing] {
            execute(state.handle(.join(seeds: seeds), now: now), now: now)
        }

        /// Handles one datagram from `source`.
        public func receive(_ datagram: [UInt8], from source: Wire.Address, now: Membership.Instant) -> [Outgoing] {
            switch opener.open(datagram) {
            case .rejected(let reason, _):
                counters.rejected[String(describing: reason), default: 0] += 1
                return []
            case .ok(let sender, _, let message):
                counters.accepted += 1
                return execute(state.handle(.received(message, from: sender, address: source), now: now), now: now)
            }
        }

        /// Advances timers; also returns when the next tick is due.
        public func tick(now: Membership.Instant) -> (outgoing: [Outgoing], next: Membership.Instant?) {
            let outgoing = execute(state.handle(.tick, now: now), now: now)
            return (outgoing, state.nextDeadline)
        }

        /// Publishes a new load sample if it differs enough from the last one.
        public func sampled(_ load: Wire.NodeLoad, now: Membership.Instant) -> [Outgoing] {
            guard LoadSampler.worthPublishing(load, over: state.load) else { return [] }
            return execute(state.handle(.localLoadChanged(load), now: now), now: now)
        }

        /// Counts a stream handshake that succeeded, or a stream refused for `reason`.
        public func countStream(rejected reason: Wire.Stream.Failure?, from remote: String = "?") {
            if let reason {
                refuseStream(Self.name(reason), from: remote)
            } else {
                counters.streamsAccepted += 1
            }
        }

        /// Counts a stream refused for `reason` (a counter in `cluster status`) and logs it,
        /// at most once per reason every 10 s with the number left out: thousands of refused
        /// connections must not become thousands of journal lines.
        public func refuseStream(_ reason: String, from remote: String) {
            counters.streamsRejected[reason, default: 0] += 1
            let verdict = refusalLog.allow(reason, now: ContinuousClock.now)
            guard verdict.log else { return }
            let more = verdict.suppressed > 0 ? " (and \(verdict.suppressed) more since the last line)" : ""
            logger.notice("refused a stream from \(remote): \(reason)\(more)")
        }

        static func name(_ failure: Wire.Stream.Failure) -> String {
            switch failure {
            case .notAStream: "notAStream"
            case .authenticationFailed: "authenticationFailed"
            case .badFrame: "badFrame"
            case .frameTooLarge: "frameTooLarge"
            }
        }

        /// The cluster's keys, for streams.
        public nonisolated var keys: Wire.Keys { streamKeys }

        /// A member by host name or id, for requests a user addressed to it. Dead members too:
        /// under load a live node can be declared dead for a moment, and connecting settles
        /// whether it answers.
        public func member(named name: String) -> Wire.MemberUpdate? {
            let lowered = name.lowercased()
            return state.view.map(\.update).first {
                $0.load.hostname.lowercased() == lowered || $0.node.description == lowered
            }
        }

        /// A member's status as this node sees it; nil if unknown.
        public func memberStatus(_ id: Wire.NodeID) -> Wire.MemberStatus? {
            state.members[id]?.status
        }

        /// Every live member but this node.
        /// This node as it gossips itself: its last load sample.
        public func selfUpdate() -> Wire.MemberUpdate { state.selfUpdate }

        public func liveMembers() -> [Wire.MemberUpdate] {
            state.view.map(\.update).filter { $0.status != .dead }
        }

        /// Counts datagrams the socket layer sent or failed to send.
        public func countSent(_ sent: Int, failed: Int) {
            counters.sent += UInt64(sent)
            counters.sendErrors += UInt64(failed)
        }

        private func execute(_ actions: [Membership.Action], now: Membership.Instant) -> [Outgoing] {
            var outgoing: [Outgoing] = []
            for action in actions {
                switch action {
                case .send(let message, let destination, let recipient):
                    do {
                        outgoing.append(Outgoing(bytes: try sealer.seal(message, to: recipient), destination: destination))
                    } catch {
                        logger.error("cannot seal a \(message.kind) datagram: \(error)")
                    }
                case .refuted:
                    guard now >= sessionStarted + Self.sessionRenewalInterval else { continue }
                    sessionStarted = now
                    sealer.startSession(sessionIDs())
                    counters.sessionsStarted += 1
                    logger.info("refuted a claim about this node: new wire session \(sealer.session)")
                case .memberChanged(let member):
                    // Load updates also come here; only a change of state is logged and timed.
                    guard lastStatus[member.id] != member.status else { continue }
                    lastStatus[member.id] = member.status
                    changedAt[member.id] = now
                    logger.info("member \(member.id) \(member.load.hostname) at \(member.address) is \(member.status)")
                }
            }
            return outgoing
        }

        /// `cluster nodes`: this node first, then every member by id.
        public func nodes(now: Membership.Instant, wallClock: UInt64) -> [Control.Node] {
            var rows = [row(state.selfUpdate, isSelf: true, changed: startedAt, now: now, wallClock: wallClock)]
            for member in state.view {
                rows.append(row(member.update, isSelf: false, changed: changedAt[member.id] ?? member.since, now: now, wallClock: wallClock))
            }
            return rows
        }

        static func state(_ status: Wire.MemberStatus) -> Control.Node.State {
            switch status {
            case .alive: .alive
            case .suspect: .suspect
            case .dead: .dead
            }
        }

        private func row(_ update: Wire.MemberUpdate, isSelf: Bool, changed: Membership.Instant, now: Membership.Instant, wallClock: UInt64) -> Control.Node {
            let load = update.load
            return Control.Node(
                id: update.node.description, hostname: load.hostname, address: update.address.description,
                state: Self.state(update.status), isSelf: isSelf, incarnation: update.incarnation,
                cpus: Int(load.cpus), cpuMHz: Int(load.cpuMHz), load: Double(load.loadMilli) / 1000,
                freeMemoryKiB: load.freeMemoryKiB, jobs: Int(load.runningJobs),
                uptimeSeconds: load.bootTime > 0 && wallClock >= load.bootTime ? Int(wallClock - load.bootTime) : nil,
                agentVersion: load.agentVersion, stateChangedSecondsAgo: seconds(now - changed),
                sharesDirectory: load.sharesDirectory, labels: load.labels.isEmpty ? nil : load.labels)
        }

        /// `cluster status`.
        public func status(now: Membership.Instant) -> Control.Status {
            var members: [String: Int] = ["alive": 0, "suspect": 0, "dead": 0]
            for member in state.view { members[String(describing: member.status), default: 0] += 1 }
            return Control.Status(
                id: settings.nodeID.description, hostname: settings.hostname, clusterName: settings.clusterName,
                address: state.address.description, keyFingerprint: keyFingerprint, agentVersion: Agent.version,
                agentUptimeSeconds: seconds(now - startedAt), settings: settings.report, counters: currentCounters,
                members: members)
        }

        /// The datagram counters with the state machine's drops.
        private var currentCounters: Control.Counters {
            var all = counters
            all.membershipDropped = state.counters.byName
            return all
        }

        private func seconds(_ duration: Duration) -> Double {
            Double(duration.nanoseconds) / 1e9
        }
    }
}
