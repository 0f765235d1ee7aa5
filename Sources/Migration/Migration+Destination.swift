#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Jobs

extension Migration {
    /// The destination side of one migration, as a state machine of plain values: whether to
    /// take the offer, where each file goes, when to restore, and what becomes of the job when
    /// the source goes away. No I/O: the agent (`Agent.Migrator`) reads the stream, runs CRIU,
    /// writes files and reports each result here. Everything it is given comes from the
    /// network and is checked here before it touches the disk (Docs/security.md).
    ///
    /// The rule that keeps a job from running twice: the destination owns the job from the
    /// moment it answers `restored` (the tree is restored, checked and still stopped). After
    /// that, losing the source means running the job (the source either saw `restored` and
    /// dropped its copy, or will ask and learn that it runs here); before it, losing the source
    /// means throwing everything away (the source resumes its own copy).
    public struct Destination: Sendable {
        /// What the node knows that the offer is checked against.
        public struct Node: Sendable, Equatable {
            public var hostname: String
            public var trust: Jobs.Trust
            /// Memory available now (MemAvailable), in bytes.
            public var availableBytes: UInt64
            /// Kept free beside the images (tmpfs) and the restored job.
            public var reserveBytes: UInt64 = 64 << 20

            public init(hostname: String, trust: Jobs.Trust, availableBytes: UInt64) {
                self.hostname = hostname
                self.trust = trust
                self.availableBytes = availableBytes
            }
        }

        public enum Phase: Sendable, Equatable {
            /// Accepted: pre-copy rounds, the final round, open files and the job's files arrive.
            case receiving
            /// The restore request came: CRIU restores round `round`.
            case restoring(round: Int)
            /// Restored, checked and stopped as `pid`; `restored` was answered: the job is ours.
            case restored(pid: Int32)
            /// Post-copy, after `commit`: the job runs here and its memory is still arriving from
            /// the source.
            case pulling(pid: Int32)
            /// Ended: the job runs here.
            case running(pid: Int32)
            /// Ended: nothing of the job is kept here (refused, failed, aborted or lost the source).
            case discarded
        }

        /// What the agent does with a message that arrived while receiving.
        public enum Action: Sendable, Equatable {
            /// Write the files whose bytes follow, in order: each where ``Intake/Placement``
            /// says.
            case write([Incoming])
            /// Restore round `round` as `record`'s job, check the tree, then report
            /// ``restoreSucceeded(pid:)`` or ``restoreFailed(_:)``.
            /// `lazy`: with CRIU's lazy pages, the memory to come from the source (post-copy).
            case restore(round: Int, record: Jobs.Record, lazy: Bool)
            /// The source's copy is gone: continue stopped `pid`, answer `done`, end.
            case run(pid: Int32)
            /// The source gave up: kill the restored `pid` if any, remove the job's files, end.
            case discard(pid: Int32?)
            /// Start CRIU's page server for pre-dump round `round` (on top of round `parent`),
            /// with no page images of an earlier try of that round left, and answer `accept`
            /// once it waits (`refuse` if it cannot start). Its page stream may carry at most
            /// `budget` bytes. Report what it wrote with ``pagesServed(round:bytes:)`` before
            /// the next message is given here.
            case servePages(round: Int, parent: Int?, budget: UInt64)
        }

        /// One admitted file of a ``Message/files(round:entries:)``.
        public struct Incoming: Sendable, Equatable {
            public var placement: Intake.Placement
            public var size: UInt64
            public var mode: UInt32

            public init(_ placement: Intake.Placement, size: UInt64, mode: UInt32) {
                (self.placement, self.size, self.mode) = (placement, size, mode)
            }
        }

        /// A message or a file the protocol does not allow: the agent drops the stream, and
        /// ``sourceLost()`` says what becomes of the job.
        public struct Violation: Error, Sendable, Equatable, CustomStringConvertible {
            public var description: String
        }

        /// The offer's job, as checked.
        public let record: Jobs.Record
        /// The groups this node's user database gives the job's uid (nil: no entry).
        public let localGroups: [UInt32]?
        public private(set) var phase: Phase = .receiving
        /// Whether the source asked for post-copy (``Message/restoreLazily(round:record:)``).
        public private(set) var lazy = false
        /// Whether the job's memory comes lazily from this node's own copy of the images
        /// (``restoresFromImages()``): after `commit` the job runs while it fills in, and the
        /// source keeps its frozen copy until `done`.
        public private(set) var fromImages = false
        private var intake: Intake
        /// Pre-dump rounds whose files came: their pages are complete, and no page server
        /// writes into them again.
        private var roundsWithFiles: Set<Int> = []
        /// The round a page server was started for, until ``pagesServed(round:bytes:)``.
        public private(set) var servingRound: Int?

        /// Takes an offer, or says why not. `localGroups` looks up the groups this node gives a
        /// uid; `runsHere`: whether a job with this id already runs on this node. The CRIU and
        /// CPU checks, which run criu, come after this.
        public static func consider(
            job id: String, record data: Data, memoryKiB: UInt64, node: Node, localGroups lookUp: (UInt32) -> [UInt32]?, runsHere: Bool
        ) -> Result<Destination, Refusal> {
            guard Jobs.Layout.isJobID(id) else { return .failure(Refusal("\(Intake.shown(id)) is not a job id")) }
            guard let record = try? JSONDecoder().decode(Jobs.Record.self, from: data) else {
                return .failure(Refusal("the job's record is unreadable"))
            }
            guard record.id == id else {
                return .failure(Refusal("the record is for job \(Intake.shown(record.id)), not \(id)"))
            }
            let localGroups = lookUp(record.uid)
            if let refusal = node.trust.refusal(uid: record.uid, gid: record.gid, localGroups: localGroups) {
                return .failure(Refusal(refusal, byTrust: true))
            }
            guard !runsHere else { return .failure(Refusal("job \(id) already runs on \(node.hostname)")) }
            guard memoryKiB < node.availableBytes >> 10 else {
                return .failure(Refusal("the job uses \(memoryKiB >> 10) MiB and \(node.hostname) has \(node.availableBytes >> 20) MiB available"))
            }
            let budget = node.availableBytes > node.reserveBytes ? node.availableBytes - node.reserveBytes : 0
            return .success(Destination(record: record, localGroups: localGroups, intake: Intake(budget: budget)))
        }

        /// Why an offer was refused (sent back as ``Message/refuse(_:)``).
        public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
            public var description: String
            /// Refused by the trust model (logged as a notice: someone may be probing).
            public var byTrust = false

            public init(_ description: String, byTrust: Bool = false) {
                self.description = description
                self.byTrust = byTrust
            }
        }

        private init(record: Jobs.Record, localGroups: [UInt32]?, intake: Intake) {
            self.record = record
            self.localGroups = localGroups
            self.intake = intake
        }

        /// Whether the exchange has ended, one way or the other.
        public var isFinished: Bool {
            switch phase {
            case .running, .discarded: true
            default: false
            }
        }

        /// Whether this node holds the job (restored, or running): losing the source now means
        /// running it, and the source must not be told that the migration failed.
        public var holdsJob: Bool {
            switch phase {
            case .restored, .pulling, .running: true
            default: false
            }
        }

        /// A message from the source, after the offer was accepted.
        public mutating func received(_ message: Message) throws(Violation) -> Action {
            switch (phase, message) {
            case (.receiving, .files(let round, let entries)):
                guard servingRound == nil else { throw violation("files of round \(round) before the page server's round was reported") }
                if round >= 1 { roundsWithFiles.insert(round) }
                var incoming: [Incoming] = []
                for entry in entries {
                    do {
                        incoming.append(Incoming(try intake.admit(round: round, path: entry.path, size: entry.size, link: entry.link), size: entry.size, mode: entry.mode))
                    } catch {
                        throw violation("refused a file of job \(record.id): \(error)")
                    }
                }
                return .write(incoming)
            case (.receiving, .pageServer(let round, let parent)):
                guard servingRound == nil else { throw violation("a page server for round \(round) while round \(servingRound ?? 0)'s still runs") }
                guard (1...Intake.maxRound).contains(round), parent.map({ (1..<round).contains($0) }) ?? true else {
                    throw violation("a page server for round \(round) on top of round \(parent.map(String.init) ?? "none")")
                }
                guard !roundsWithFiles.contains(round) else { throw violation("a page server for round \(round), whose files came already") }
                servingRound = round
                return .servePages(round: round, parent: parent, budget: intake.budget)
            case (.receiving, .restore(let round, let data)), (.receiving, .restoreLazily(let round, let data)):
                guard servingRound == nil else { throw violation("restore before the page server's round was reported") }
                guard (1...Intake.maxRound).contains(round) else { throw violation("restore from round \(round)") }
                // The record that runs is the one the offer was checked with.
                guard let sent = try? JSONDecoder().decode(Jobs.Record.self, from: data),
                      sent.id == record.id, sent.uid == record.uid, sent.gid == record.gid else {
                    throw violation("the record sent with restore differs from the offer's")
                }
                if case .restoreLazily = message { lazy = true }
                phase = .restoring(round: round)
                return .restore(round: round, record: sent, lazy: lazy)
            case (.restored(let pid), .commit):
                phase = lazy || fromImages ? .pulling(pid: pid) : .running(pid: pid)
                return .run(pid: pid)
            case (.receiving, .abort):
                phase = .discarded
                return .discard(pid: nil)
            case (.restored(let pid), .abort):
                phase = .discarded
                return .discard(pid: pid)
            default:
                throw violation("unexpected \(Self.name(of: message)) \(Self.name(of: phase)) of job \(record.id)")
            }
        }

        /// The page server of round `round` (``Action/servePages(round:parent:budget:)``) ended:
        /// it wrote `bytes` (0 if it failed and its images were removed), charged to the budget.
        public mutating func pagesServed(round: Int, bytes: UInt64) throws(Violation) {
            guard servingRound == round else { preconditionFailure("pagesServed(round: \(round)) while serving \(String(describing: servingRound))") }
            servingRound = nil
            do {
                try intake.charge(bytes, for: "the pages of round \(round)")
            } catch {
                throw violation("refused the pages of job \(record.id): \(error)")
            }
        }

        /// CRIU restored the tree as `pid`, and it passed the checks: answer `restored`. From
        /// here on the job is this node's.
        public mutating func restoreSucceeded(pid: Int32) {
            guard case .restoring = phase else { preconditionFailure("restoreSucceeded in \(phase)") }
            phase = .restored(pid: pid)
        }

        /// The agent restores a pre-copied job lazily from the images here (not post-copy):
        /// every page is on this node, so losing the source never costs the job its memory.
        public mutating func restoresFromImages() {
            guard case .restoring = phase, !lazy else { preconditionFailure("restoresFromImages in \(phase)") }
            fromImages = true
        }

        /// The restore failed, or the restored tree failed its checks and was killed: answer
        /// `failed`, remove the job's files, end. The source resumes its copy.
        public mutating func restoreFailed() {
            guard case .restoring = phase else { preconditionFailure("restoreFailed in \(phase)") }
            phase = .discarded
        }

        /// Post-copy, or a lazy restore from the images here: the lazy-pages daemon has every
        /// page and ended well. Answer `done`.
        public mutating func pagesArrived() {
            guard case .pulling(let pid) = phase else { preconditionFailure("pagesArrived in \(phase)") }
            phase = .running(pid: pid)
        }

        /// Post-copy, or a lazy restore from the images here: the pages stopped coming (the
        /// daemon failed, the relay broke) while the job still runs here. The copy here lacks
        /// memory it cannot get: kill `pid`, answer `failed` if the stream still works; the
        /// source resumes its frozen copy.
        public mutating func pullFailed() -> Int32 {
            guard case .pulling(let pid) = phase else { preconditionFailure("pullFailed in \(phase)") }
            phase = .discarded
            return pid
        }

        /// What becomes of the job here when the source is lost.
        public enum Loss: Sendable, Equatable {
            /// Run the restored job: the source dropped its copy, or will learn that this one runs.
            /// After a lazy restore from the images here, its memory goes on filling in.
            case run(pid: Int32)
            /// Kill the restored job: it lacks pages only the source had (post-copy).
            case kill(pid: Int32)
            /// Nothing of the job is kept here.
            case nothing
        }

        /// The stream broke or broke the protocol: what becomes of the job here.
        public mutating func sourceLost() -> Loss {
            switch phase {
            case .restored(let pid) where lazy, .pulling(let pid) where lazy:
                phase = .discarded
                return .kill(pid: pid)
            case .pulling(let pid):
                // Its memory is here: it runs, and answers the source's query once filled in.
                return .run(pid: pid)
            case .restored(let pid) where fromImages:
                phase = .pulling(pid: pid)
                return .run(pid: pid)
            case .restored(let pid), .running(let pid):
                phase = .running(pid: pid)
                return .run(pid: pid)
            case .receiving, .restoring, .discarded:
                phase = .discarded
                return .nothing
            }
        }

        private func violation(_ text: String) -> Violation {
            Violation(description: text)
        }

        private static func name(of message: Message) -> String {
            switch message {
            case .offer: "offer"
            case .accept: "accept"
            case .refuse: "refuse"
            case .files: "files"
            case .restore: "restore"
            case .restoreLazily: "restoreLazily"
            case .restored: "restored"
            case .failed: "failed"
            case .commit: "commit"
            case .abort: "abort"
            case .done: "done"
            case .query: "query"
            case .pages: "pages"
            case .pageServer: "pageServer"
            case .state: "state"
            }
        }

        private static func name(of phase: Phase) -> String {
            switch phase {
            case .receiving: "while receiving"
            case .restoring: "while restoring"
            case .restored: "after restoring"
            case .pulling: "while pulling pages"
            case .running: "after running"
            case .discarded: "after discarding"
            }
        }
    }
}
