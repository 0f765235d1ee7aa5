#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterControl
import ClusterWire
import Jobs
import Logging

extension Agent {
    /// Sends each job request from the control socket to the node it concerns: `run --node`
    /// to that node, `ps` to every live member (merged), `kill` and `logs` to the node that
    /// has the job. Requests arriving from other agents are always answered locally
    /// (``PeerServer``), so nothing is forwarded twice.
    struct JobRouter {
        let core: Core
        let jobs: Jobs.Supervisor
        let uid: UInt32?
        let gid: UInt32?
        /// A request another agent forwarded: answered here, never forwarded again.
        var forwarded = false
        var logger: Logger
        /// This node's balancing, which places new jobs; nil for a forwarded request.
        var balancing: Balancing? = nil

        var local: JobRequests {
            JobRequests(
                jobs: jobs, uid: uid, gid: gid, viaPeer: forwarded, trust: core.settings.trust,
                labels: core.settings.labels, sharedDirectory: { [settings = core.settings] in SharedStorage.directory(settings: settings) })
        }
        var client: PeerClient { PeerClient(keys: core.keys, me: core.settings.nodeID) }

        func respond(to request: Control.Request) async throws -> Control.Response {
            switch request {
            case .run(let spec, let node):
                if !forwarded && node == nil { return try await place(spec) }
                guard !forwarded, let node, !isMe(node) else {
                    let response = try await local.respond(to: request)
                    guard forwarded, spec.placement != nil, case .job(var job) = response else { return response }
                    // The job is counted in the running jobs this node publishes next.
                    job.countedAfterIncarnation = await core.selfUpdate().incarnation
                    return .job(job)
                }
                guard let member = await core.member(named: node) else {
                    throw Failure(.notFound, "no node \(node) in the cluster; `cluster nodes` lists them")
                }
                return try await forward(request, to: member)
            case .ps(let localOnly):
                guard case .jobs(let ours, _) = try await local.respond(to: request) else { throw Failure("ps: no job list") }
                // A job that moved away is listed by the node it moved to.
                var jobs = ours.filter { $0.state != .moved }
                // The asking node reads one frame: list what fits, running jobs first.
                if forwarded { return Self.fitted(jobs, budget: Self.psReplyBudget, hostname: core.settings.hostname) }
                if localOnly { return .jobs(jobs) }
                var warnings: [String] = []
                for (member, answer) in await ask(await core.liveMembers(), request) {
                    switch answer {
                    case .success(.jobs(let theirs, let theirWarnings)):
                        jobs += theirs
                        warnings += theirWarnings
                    case .success(let other):
                        warnings.append("\(member.load.hostname) did not answer: \(other.error ?? "it sent \(other.kind)")")
                    case .failure(let error):
                        warnings.append("\(member.load.hostname) did not answer: \(error)")
                    }
                }
                return .jobs(jobs, warnings: warnings)
            case .kill(let job), .logs(let job, _, _), .stay(let job, _), .cancelMove(let job):
                let id = try JobRequests.jobID(job, request)
                if await jobs.location(id) == .here || forwarded {
                    return try await local.respond(to: request)
                }
                if case .movedTo(let node) = await jobs.location(id), let member = await core.member(named: node) {
                    return try await forward(request, to: member)
                }
                // Not ours: first the node the id names (where a job starts, and where a placed
                // one runs), unless it says the job moved on; then whichever live member knows it.
                if let home = await core.liveMembers().first(where: { Jobs.Layout.counter(in: id, node: $0.node.rawValue) != nil }) {
                    if let answer = try? await forward(request, to: home), answer.error == nil, !Self.movedAway(answer) { return answer }
                }
                for (_, answer) in await ask(await core.liveMembers(), request) {
                    if case .success(let theirs) = answer, theirs.error == nil { return theirs }
                }
                return try await local.respond(to: request)
            case .migrate(let job, let target, let method):
                return try await migrate(job, to: target, method: method, request)
            case .drain(let node):
                return try await drain(node, request)
            case .nodes, .status, .balance, .pending, .admit, .deny:
                throw Failure("not a job command")
            }
        }

        /// Whether an answer shows the job as moved to another node (its home still lists it).
        static func movedAway(_ answer: Control.Response) -> Bool {
            switch answer {
            case .logs(let chunk): chunk.job.state == .moved
            case .job(let job): job.state == .moved
            default: false
            }
        }

        /// Starts a job where it adds least to the cluster's cost (``Balancing/place(local:members:)``),
        /// among the nodes with the labels it asks for. It starts here when it cannot run
        /// elsewhere: pinned (`--stay`), balancing off here, its directory not on shared storage,
        /// its program not found, or a user other nodes do not run jobs for. A node that refuses
        /// a placed job, or cannot be reached, leaves it to start here; one that got the request
        /// but did not answer leaves an error, not a second copy.
        func place(_ spec: Control.RunSpec) async throws -> Control.Response {
            let labels = spec.labels ?? [:]
            if let problem = Wire.NodeLoad.Labels.problem(labels) { throw Failure(.input, "--label: \(problem)") }
            let settings = core.settings
            let here = settings.hostname
            let labelled = labels.isEmpty ? "" : " with \(Wire.NodeLoad.Labels.encode(labels))"
            let fitsHere = labels.allSatisfy { settings.labels[$0.key] == $0.value }
            var staysBecause: String?
            if spec.stay {
                staysBecause = "--stay"
            } else if let balancing, !(await balancing.enabled) {
                staysBecause = "balancing is off here"
            } else if balancing == nil {
                staysBecause = "no placement here"
            } else if let uid, let gid, let refusal = settings.trust.refusal(uid: uid, gid: gid, localGroups: Jobs.Trust.localGroups(of: uid)) {
                staysBecause = "other nodes would refuse it (\(refusal))"
            } else if let shared = SharedStorage.directory(settings: settings) {
                if !SharedStorage.contains(spec.workingDirectory, in: shared) {
                    staysBecause = "\(spec.workingDirectory) is not on shared storage (\(shared))"
                } else if spec.program.map(SharedStorage.isPlainAbsolute) != true {
                    staysBecause = "\(spec.arguments.first ?? "its program") was not found in PATH"
                }
            } else {
                staysBecause = "no shared storage here"
            }
            if let staysBecause {
                guard fitsHere else {
                    throw Failure(.conflict, "\(here) lacks the labels\(labelled), and the job cannot start elsewhere: \(staysBecause)")
                }
                return try await startHere(spec, placement: "here: \(staysBecause)")
            }
            guard let balancing else { return try await startHere(spec, placement: nil) }
            let me = await core.selfUpdate()
            var local = Balancing.node(me.node, me.load)
            local.runningJobs = await jobs.runningCount()
            let live = await core.liveMembers()
            await balancing.confirmPlacements(live)
            let members = live.filter { member in
                member.status == .alive && member.node != me.node && labels.allSatisfy { member.load.labels[$0.key] == $0.value }
            }
            logger.debug("placement: local \(local), peers \(members.map { Balancing.node($0.node, $0.load) })")
            switch await balancing.place(local: fitsHere ? local : nil, members: members) {
            case nil:
                throw Failure(.notFound, "no live node\(labelled) takes jobs; `cluster nodes` lists the nodes and their labels")
            case .here(let placement):
                do {
                    let response = try await startHere(spec, placement: "here: least cost (\(Self.figure(placement.cost)))")
                    await balancing.startedHere()
                    return response
                } catch {
                    await balancing.startedHere()
                    throw error
                }
            case .there(let member, let placement):
                let why = placement.reason == .onlyThere
                    ? "placed from \(here): the only node\(labelled) (cost \(Self.figure(placement.cost)))"
                    : "placed from \(here): cost \(Self.figure(placement.cost)) there, \(Self.figure(placement.costHere ?? 0)) here"
                var placed = spec
                placed.placement = why
                guard let uid, let gid else { throw Failure(.permission, "cannot tell who is asking (no peer credentials on the control socket)") }
                let delivery = PeerClient.Delivery()
                let refusal: String
                do {
                    let response = try await client.ask(
                        member, PeerRequest(request: .run(placed, node: member.load.hostname), uid: uid, gid: gid), delivery: delivery)
                    if case .job(let job) = response {
                        await balancing.placed(target: member.node.rawValue, countedAfter: job.countedAfterIncarnation)
                        return response
                    }
                    refusal = response.error ?? "it answered \(response.kind)"
                } catch {
                    guard !delivery.wasSent else {
                        await balancing.placementFailed(target: member.node.rawValue)
                        throw Failure(.unreachable, "the job was placed on \(member.load.hostname), which did not answer whether it started it (\(error)); `cluster ps` shows whether it runs")
                    }
                    refusal = "\(error)"
                }
                await balancing.placementFailed(target: member.node.rawValue)
                guard fitsHere else { throw Failure(.conflict, "\(member.load.hostname) did not take the job: \(refusal)") }
                logger.info("placement: \(member.load.hostname) did not take a job (\(refusal)); it starts here")
                return try await startHere(spec, placement: "here: \(member.load.hostname) did not take it (\(refusal.prefix(120)))")
            }
        }

        /// Starts `spec` on this node, saying where it was placed and why.
        func startHere(_ spec: Control.RunSpec, placement: String?) async throws -> Control.Response {
            var spec = spec
            spec.placement = placement
            return try await local.respond(to: .run(spec, node: nil), placedHere: true)
        }

        /// A cost for a sentence: two decimals.
        static func figure(_ cost: Double) -> String {
            let hundredths = Int((cost * 100).rounded())
            return "\(hundredths / 100).\(String(hundredths % 100).count == 1 ? "0" : "")\(hundredths % 100)"
        }

        /// Moves a job from this node, or asks the node that runs it to.
        func migrate(_ job: String, to target: String, method: Control.MoveMethod, _ request: Control.Request) async throws -> Control.Response {
            let id = try JobRequests.jobID(job, request)
            var target = target
            switch await jobs.location(id) {
            case .here:
                let snapshot = try await jobs.snapshot(id)
                guard let uid, core.settings.trust.permits(uid, on: snapshot.record.uid, viaPeer: forwarded) else {
                    throw Failure(.permission, "job \(id) belongs to \(snapshot.record.owner); only they or root can move it")
                }
                if let reason = Migrator.immovable(snapshot.record, trust: core.settings.trust) {
                    throw Failure(.permission, "job \(id) cannot move: \(reason)")
                }
                if target == "home" { target = snapshot.record.homeNode }
                guard !isMe(target) else { throw Failure(.conflict, "job \(id) already runs on \(core.settings.hostname)") }
                guard let member = await core.member(named: target) else {
                    throw Failure(.notFound, "no node \(target) in the cluster; `cluster nodes` lists them")
                }
                let outcome = try await Migrator(core: core, jobs: jobs, logger: logger).migrate(id, to: member, method: method)
                let report = outcome.report(job: id, from: core.settings.hostname, to: member.load.hostname)
                return .migration(report)
            case .movedTo(let node) where !forwarded:
                guard let member = await core.member(named: node) else { throw Failure(.unreachable, "job \(id) moved to \(node), which is not alive") }
                return try await forward(request, to: member)
            case .movedTo(let node):
                throw Failure(.conflict, "job \(id) moved on to \(node)")
            case .unknown:
                guard !forwarded else { throw Failure(.notFound, "no job \(id) on \(core.settings.hostname)") }
                for (_, answer) in await ask(await core.liveMembers(), .ps()) {
                    if case .success(.jobs(let theirs, _)) = answer, let job = theirs.first(where: { $0.id == id && $0.state == .running }),
                       let member = await core.member(named: job.currentNode) {
                        return try await forward(request, to: member)
                    }
                }
                throw Failure(.notFound, "no running job \(id) in the cluster; `cluster ps` lists the jobs")
            }
        }

        /// What a forwarded `ps` answer may take of one stream frame (``Wire/Stream/maxPayload``),
        /// leaving room for the envelope and the warning.
        static let psReplyBudget = 1 << 20

        /// `response` with as many of its jobs as fit in `budget` bytes of JSON: running jobs
        /// first, then the newest; a warning says how many were left out (a node that kept
        /// thousands of finished jobs still answers `cluster ps`).
        static func fitted(_ jobs: [Control.Job], budget: Int, hostname: String) -> Control.Response {
            let encoder = JSONEncoder()
            guard let whole = try? encoder.encode(Control.Response.jobs(jobs)), whole.count > budget else { return .jobs(jobs) }
            var size = ((try? encoder.encode(Control.Response.jobs([])))?.count ?? 0) + 512
            let ordered = jobs.sorted { ($0.state == .running ? 0 : 1, UInt64.max - $0.startedAt) < ($1.state == .running ? 0 : 1, UInt64.max - $1.startedAt) }
            var kept: [Control.Job] = []
            for job in ordered {
                guard let bytes = try? encoder.encode(job), size + bytes.count + 1 <= budget else { continue }
                kept.append(job)
                size += bytes.count + 1
            }
            return .jobs(kept, warnings: ["\(hostname) listed \(kept.count) of its \(jobs.count) jobs (one reply's limit); `cluster ps --local` on \(hostname) lists them all"])
        }

        /// Moves every running job off a node, one at a time, each to the live node with the
        /// least load per CPU then (`stay` pins a job against the balancer, not against a drain:
        /// the node is going away). Root only: it moves other users' jobs.
        func drain(_ node: String?, _ request: Control.Request) async throws -> Control.Response {
            guard uid == 0 else { throw Failure(.permission, "drain moves every user's jobs: run it as root") }
            let node = node ?? core.settings.hostname
            guard forwarded || isMe(node) else {
                guard let member = await core.member(named: node) else { throw Failure(.notFound, "no node \(node) in the cluster") }
                return try await forward(request, to: member)
            }
            var reports: [Control.MigrationReport] = []
            var staying: [String] = []
            for snapshot in await jobs.snapshots() where snapshot.record.state == .running {
                let candidates = await core.liveMembers().filter { $0.status == .alive }
                guard let target = candidates.min(by: { Self.loadPerCPU($0) < Self.loadPerCPU($1) }) else {
                    throw Failure(.conflict, "no other live node to drain \(core.settings.hostname) to")
                }
                if let reason = Migrator.immovable(snapshot.record, trust: core.settings.trust) {
                    staying.append("job \(snapshot.record.id) stays: \(reason)")
                    continue
                }
                let outcome = try await Migrator(core: core, jobs: jobs, logger: logger).migrate(snapshot.record.id, to: target)
                reports.append(outcome.report(job: snapshot.record.id, from: core.settings.hostname, to: target.load.hostname))
            }
            return .migrations(reports, warnings: staying)
        }

        /// The member's load per CPU, at least one per running job. In `Double`: the figures come
        /// from a peer, and `runningJobs * 1000` in `UInt32` trapped for a gossiped count above
        /// 4,294,967.
        static func loadPerCPU(_ member: Wire.MemberUpdate) -> Double {
            max(Double(member.load.loadMilli), Double(member.load.runningJobs) * 1000) / 1000 / Double(max(1, member.load.cpus))
        }

        func isMe(_ node: String) -> Bool {
            let lowered = node.lowercased()
            return lowered == core.settings.hostname.lowercased() || lowered == core.settings.nodeID.description
        }

        func forward(_ request: Control.Request, to member: Wire.MemberUpdate) async throws -> Control.Response {
            guard let uid, let gid else { throw Failure(.permission, "cannot tell who is asking (no peer credentials on the control socket)") }
            return try await client.ask(member, PeerRequest(request: request, uid: uid, gid: gid))
        }

        /// Asks every member in parallel.
        func ask(_ members: [Wire.MemberUpdate], _ request: Control.Request) async -> [(Wire.MemberUpdate, Result<Control.Response, Failure>)] {
            await withTaskGroup(of: (Wire.MemberUpdate, Result<Control.Response, Failure>).self) { group in
                for member in members {
                    group.addTask {
                        do {
                            return (member, .success(try await forward(request, to: member)))
                        } catch let failure as Failure {
                            return (member, .failure(failure))
                        } catch {
                            return (member, .failure(Failure(.unreachable, "\(error)")))
                        }
                    }
                }
                var results: [(Wire.MemberUpdate, Result<Control.Response, Failure>)] = []
                for await result in group { results.append(result) }
                return results.sorted { $0.0.node < $1.0.node }
            }
        }
    }
}
