#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import ClusterControl
import Jobs

extension Agent {
    /// The control socket's job commands (`run`, `ps`, `kill`, `logs`) for one caller.
    struct JobRequests {
        let jobs: Jobs.Supervisor
        /// The user asking (SO_PEERCRED on the control socket, or forwarded by another agent);
        /// nil if the credentials could not be read.
        let uid: UInt32?
        let gid: UInt32?
        /// Forwarded by another agent: the uid is that node's word, not this kernel's.
        var viaPeer = false
        var trust = Jobs.Trust()
        /// This node's labels: a job placed here must find the ones it asks for.
        var labels: [String: String] = [:]
        /// This node's shared directory now (``SharedStorage/directory(settings:root:)``), read
        /// only for a job another node placed here.
        var sharedDirectory: @Sendable () -> String? = { nil }

        /// The longest placement sentence kept with a job (it may come from another node).
        static let placementLimit = 200

        /// `placedHere`: a `run` this node's placement chose to start here (its sentence kept).
        func respond(to request: Control.Request, placedHere: Bool = false) async throws(Jobs.Supervisor.Failure) -> Control.Response {
            switch request {
            case .run(let spec, _):
                guard let uid, let gid else { throw Jobs.Supervisor.Failure(.permission, "cannot tell who is asking (no peer credentials on the control socket)") }
                let localGroups = Jobs.Trust.localGroups(of: uid)
                if viaPeer, let refusal = trust.refusal(uid: uid, gid: gid, localGroups: localGroups) {
                    throw Jobs.Supervisor.Failure(.permission, "refused: \(refusal)")
                }
                let placed = viaPeer && spec.placement != nil
                if placed, let problem = placementProblem(spec) {
                    throw Jobs.Supervisor.Failure(.conflict, "cannot take the placed job: \(problem)")
                }
                let record = try await jobs.start(
                    arguments: spec.arguments, workingDirectory: spec.workingDirectory, environment: spec.environment,
                    uid: uid, gid: gid, stay: spec.stay,
                    supplementaryGroups: viaPeer ? trust.peerGroups(localGroups ?? [], gid: gid) : nil,
                    placement: placed || placedHere ? spec.placement.map { String($0.prefix(Self.placementLimit)) } : nil)
                return .job(Self.row(try await jobs.snapshot(record.id)))
            case .ps:
                return .jobs(await jobs.snapshots().map(Self.row))
            case .kill(let job):
                let id = try Self.jobID(job, request)
                try await authorize(id, "kill")
                let (record, _) = try await jobs.kill(id, by: uid ?? UInt32.max)
                return .job(Self.row(try await jobs.snapshot(record.id)))
            case .logs(let job, let offsets, let wait):
                let id = try Self.jobID(job, request)
                try await authorize(id, "read the output of")
                var piece = try await jobs.output(id, stdout: offsets.stdout, stderr: offsets.stderr)
                // Held until there is something to say: new output, the job's end, or the limit.
                // Polled, 5 ms at first (a short job's end is seen at once), then up to 50 ms.
                let clock = ContinuousClock()
                let deadline = clock.now + Control.Request.logsWaitLimit
                var pause = Duration.milliseconds(5)
                while wait && piece.stdout.isEmpty && piece.stderr.isEmpty && piece.job.record.state == .running
                        && clock.now < deadline && !Task.isCancelled {
                    try? await Task.sleep(for: pause)
                    pause = min(pause * 2, .milliseconds(50))
                    piece = try await jobs.output(id, stdout: offsets.stdout, stderr: offsets.stderr)
                }
                let next = Control.LogOffsets(
                    stdout: offsets.stdout + UInt64(piece.stdout.count), stderr: offsets.stderr + UInt64(piece.stderr.count))
                return .logs(Control.LogChunk(stdout: Data(piece.stdout), stderr: Data(piece.stderr), next: next, job: Self.row(piece.job)))
            case .cancelMove(let job):
                let id = try Self.jobID(job, request)
                try await authorize(id, "cancel the move of")
                _ = try await jobs.cancelMove(id, by: uid ?? UInt32.max)
                return .job(Self.row(try await jobs.snapshot(id)))
            case .stay(let job, let pinned):
                let id = try Self.jobID(job, request)
                try await authorize(id, "pin or release")
                try await jobs.setStay(id, pinned, by: uid ?? UInt32.max)
                return .job(Self.row(try await jobs.snapshot(id)))
            case .nodes, .status, .migrate, .drain, .balance, .pending, .admit, .deny:
                throw Jobs.Supervisor.Failure(description: "not a request JobRequests answers")
            }
        }

        /// Why a job another node placed here cannot run here, or nil: it asks for labels this
        /// node lacks, its directory is not on this node's shared storage, or its program is
        /// not at the same path here. The placing node then starts it itself.
        func placementProblem(_ spec: Control.RunSpec) -> String? {
            let wanted = spec.labels ?? [:]
            if let missing = wanted.sorted(by: { $0.key < $1.key }).first(where: { labels[$0.key] != $0.value }) {
                return "this node lacks the label \(missing.key)=\(missing.value)"
            }
            guard let shared = sharedDirectory() else { return "no shared storage here" }
            guard SharedStorage.contains(spec.workingDirectory, in: shared) else {
                return "\(spec.workingDirectory.prefix(200)) is not on this node's shared storage (\(shared))"
            }
            guard let program = spec.program, SharedStorage.isPlainAbsolute(program) else { return "no program path given" }
            var info = stat()
            guard stat(program, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_mode & 0o111 != 0 else {
                return "no program \(program.prefix(200)) here"
            }
            return nil
        }

        /// Only the job's owner or root (Jobs.Trust.permits): others' output may hold secrets.
        func authorize(_ id: String, _ action: String) async throws(Jobs.Supervisor.Failure) {
            let owner = try await jobs.snapshot(id).record
            guard let uid, trust.permits(uid, on: owner.uid, viaPeer: viaPeer) else {
                throw Jobs.Supervisor.Failure(.permission, "job \(id) belongs to \(owner.owner); only they or root can \(action) it")
            }
        }

        /// `id` if it is a job id; a request names it in its error.
        static func jobID(_ id: String, _ request: Control.Request) throws(Jobs.Supervisor.Failure) -> String {
            guard Jobs.Layout.isJobID(id) else {
                throw Jobs.Supervisor.Failure(.input, "\(request.command.rawValue): \"\(id.prefix(40))\" is not a job id (like 4c4201-7); `cluster ps` lists them")
            }
            return id
        }

        static func state(_ state: Jobs.Record.State) -> Control.Job.State {
            switch state {
            case .running: .running
            case .exited: .exited
            case .killed: .killed
            case .failed: .failed
            case .moved: .moved
            }
        }

        static func row(_ snapshot: Jobs.Supervisor.Snapshot) -> Control.Job {
            let record = snapshot.record
            return Control.Job(
                id: record.id, arguments: record.arguments, owner: record.owner, uid: record.uid,
                homeNode: record.homeNode, currentNode: record.currentNode, state: state(record.state),
                exitCode: record.state.code, cpuSeconds: snapshot.usage.cpuSeconds, memoryKiB: snapshot.usage.memoryKiB,
                migrations: record.migrations.count, stay: record.stay, startedAt: record.startedAt, endedAt: record.endedAt,
                namespacePID: snapshot.namespacePID, dirtyBytesPerSecond: snapshot.dirtyRate, placement: record.placement)
        }
    }
}
