import Glibc
import ClusterControl
import Synchronization

/// Following a job to its end as if it ran in the foreground (`cluster run --wait`,
/// `cluster-sh`): its output streams to this process's stdout and stderr as it comes, SIGINT,
/// SIGTERM, SIGHUP and SIGQUIT kill it, and so does a reader that went away (`cluster-sh -c yes
/// | head -1`: the job would otherwise run on for ever), and the exit status is the job's.
enum JobWait {
    /// The signal that arrived, 0 if none.
    static let caught = Atomic<Int32>(0)

    /// The signals that kill the job. SIGPIPE is blocked too, so a write to a reader that went
    /// away fails with EPIPE (and kills the job) instead of ending this process alone.
    static let signals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE]

    /// Follows job `id` until it ended and its output was printed; returns the status a shell
    /// would give: its exit code, or 128 + the signal that ended it. Each `logs` request is
    /// held by the agent until there is output or an end (``Control/Request/logsWaitLimit``),
    /// so a short job's end is seen at once and a long one costs a request every 2 s.
    static func follow(_ id: String, socket: String) throws -> Int32 {
        killOnSignal(id, socket: socket)
        var offsets = Control.LogOffsets()
        var failures = 0
        while true {
            let request = Control.Request.logs(job: id, from: offsets, wait: true)
            let response: Control.Response
            do {
                response = try Request.send(request, socket: socket)
                failures = 0
            } catch {
                // A job on another node is followed through this node's agent: a busy peer may
                // miss one answer. Twenty misses in a row (about 10 s) end the wait.
                failures += 1
                guard failures < 20 else { throw error }
                usleep(500_000)
                continue
            }
            guard case .logs(let chunk) = response else { throw Request.unexpected(response, to: request) }
            let written = LogsCommand.write(chunk.stdout, to: 1) && LogsCommand.write(chunk.stderr, to: 2)
            if !written && errno == EPIPE && caught.load(ordering: .relaxed) == 0 {
                // As a shell pipeline's writer would die of SIGPIPE: the job ends, status 141.
                caught.store(SIGPIPE, ordering: .relaxed)
                _ = try? Request.send(.kill(job: id), socket: socket)
            }
            offsets = chunk.next
            if chunk.stdout.isEmpty && chunk.stderr.isEmpty && chunk.job.hasEnded {
                return status(chunk.job, interrupted: caught.load(ordering: .relaxed))
            }
        }
    }

    /// Blocks ``signals`` here and has a thread of their own wait for them: the main thread may
    /// sit in a held `logs` request, and a kill request is no work for a signal handler. The
    /// first one kills the job (wherever it runs); the follow loop then sees its end.
    static func killOnSignal(_ id: String, socket: String) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        final class Context {
            let id: String
            let socket: String
            var set: sigset_t
            init(id: String, socket: String, set: sigset_t) {
                self.id = id
                self.socket = socket
                self.set = set
            }
        }
        let context = Unmanaged.passRetained(Context(id: id, socket: socket, set: set)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let context = Unmanaged<Context>.fromOpaque(raw).takeRetainedValue()
            var number: Int32 = 0
            guard sigwait(&context.set, &number) == 0 else { return nil }
            JobWait.caught.store(number, ordering: .relaxed)
            _ = try? Request.send(.kill(job: context.id), socket: context.socket)
            return nil
        }, context)
        if created != 0 {
            // No waiting thread: signals keep their default action (this process ends, the job runs on).
            Unmanaged<AnyObject>.fromOpaque(context).release()
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
        }
    }

    /// A shell's status for an ended job.
    static func status(_ job: Control.Job, interrupted: Int32) -> Int32 {
        switch job.state {
        case .exited: return job.exitCode ?? 1
        case .killed: return 128 + (interrupted != 0 ? interrupted : (job.exitCode ?? SIGKILL))
        case .failed, .moved, .running: return 1
        }
    }
}
