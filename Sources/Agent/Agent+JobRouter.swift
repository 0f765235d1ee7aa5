import ClusterControl
import ClusterWire
import Jobs

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

        var local: JobRequests { JobRequests(jobs: jobs, uid: uid, gid: gid) }
        var client: PeerClient { PeerClient(keys: core.keys, me: core.settings.nodeID) }

        func respond(to request: Control.Request) async throws -> Control.Response {
            switch request.command {
            case .run:
                guard let node = request.node, !isMe(node) else { return try await local.respond(to: request) }
                guard let member = await core.member(named: node) else {
                    throw Failure("no live node \(node) in the cluster; `cluster nodes` lists them")
                }
                return try await forward(request, to: member)
            case .ps:
                var response = try await local.respond(to: request)
                if request.local == true { return response }
                let members = await core.liveMembers()
                let answers = await ask(members, request)
                for (member, answer) in answers {
                    switch answer {
                    case .success(let theirs):
                        response.jobs = (response.jobs ?? []) + (theirs.jobs ?? [])
                    case .failure(let error):
                        response.warnings = (response.warnings ?? []) + ["\(member.load.hostname) did not answer: \(error)"]
                    }
                }
                return response
            case .kill, .logs:
                if let id = request.job, await jobs.knows(id) {
                    return try await local.respond(to: request)
                }
                // Not ours: whichever live member knows the job answers.
                for (_, answer) in await ask(await core.liveMembers(), request) {
                    if case .success(let theirs) = answer, theirs.error == nil { return theirs }
                }
                return try await local.respond(to: request)
            case .nodes, .status:
                throw Failure("not a job command")
            }
        }

        func isMe(_ node: String) -> Bool {
            let lowered = node.lowercased()
            return lowered == core.settings.hostname.lowercased() || lowered == core.settings.nodeID.description
        }

        func forward(_ request: Control.Request, to member: Wire.MemberUpdate) async throws -> Control.Response {
            guard let uid, let gid else { throw Failure("cannot tell who is asking (no peer credentials on the control socket)") }
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
                            return (member, .failure(Failure("\(error)")))
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
