#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Migration
import Processes
import Synchronization

extension Agent.Migrator {
    /// A criu run started before it is needed and held at its very start, so that what it
    /// costs to start (exec, 23 shared libraries, GnuTLS's initializer: some 50–60 ms under
    /// TCG, Docs/migration.md "Where the down time goes") is paid while the job still runs.
    ///
    /// criu opens its log file right after opening the images directory and before reading
    /// anything else; here that file is a FIFO, so criu waits in `open` until ``run()`` opens
    /// the other end, then goes on, its log copied into the images directory under the usual
    /// name. ``cancel()`` kills a run that is not needed; criu has touched nothing by then.
    final class PrestartedCRIU: Sendable {
        let pid: pid_t
        let directory: String
        /// The log's name in `directory`, as criu's `--log-file` would have had it.
        let log: String
        /// criu's command (`dump`, `restore`), for its failure.
        let step: String
        private let exit: Task<Processes.Exit, Never>
        private let ended = Agent.Flag()

        /// Where criu's log goes first: outside the images directory, which the peer's files
        /// fill, in the migration's own directory.
        let fifo: String

        /// The socket of a dump whose memory goes to the destination's page server (criu's end
        /// is its descriptor 3), released when the run is cancelled.
        let pageSocket: PageSocket?

        /// Starts `arguments` (whose `--log-file` is `log`, relative to `directory`) with its
        /// log redirected into the FIFO `fifo` it waits on; `pageSocket`'s criu end becomes its
        /// descriptor 3.
        init(_ arguments: [String], directory: String, log: String, fifo: String, pageSocket: PageSocket? = nil) throws {
            self.directory = directory
            self.log = log
            self.fifo = fifo
            self.pageSocket = pageSocket
            step = arguments.count > 1 ? arguments[1] : ""
            unlink(fifo)
            guard mkfifo(fifo, 0o600) == 0 else {
                pageSocket?.closeCRIUEnd()
                pageSocket?.release()
                throw Agent.Failure("cannot make \(fifo): \(String(cString: strerror(errno)))")
            }
            var arguments = arguments
            guard let at = arguments.firstIndex(of: "--log-file"), at + 1 < arguments.count, arguments[at + 1] == log else {
                unlink(fifo)
                pageSocket?.closeCRIUEnd()
                pageSocket?.release()
                throw Agent.Failure("criu's arguments do not name the log file \(log)")
            }
            arguments[at + 1] = fifo
            do {
                pid = try Processes.spawn(
                    arguments, descriptors: Processes.output(to: directory + "/criu-output.log") + (pageSocket.map { [.copy(of: $0.criuEnd)] } ?? []),
                    directory: directory)
            } catch {
                unlink(fifo)
                pageSocket?.closeCRIUEnd()
                pageSocket?.release()
                throw Agent.Failure(error.description)
            }
            pageSocket?.closeCRIUEnd()
            let (pid, ended) = (pid, ended)
            exit = Task {
                let exit = await Processes.Reaper.shared.exit(of: pid)
                ended.set()
                return exit
            }
        }

        /// Lets criu go on and waits for it, its log copied to `directory`/`log`; throws
        /// criu's failure as ``Agent/Migrator/runCRIU(_:in:log:)`` does.
        func run() async throws {
            let copied = Agent.Flag()
            let (fifo, target, ended, pid) = (self.fifo, directory + "/" + log, self.ended, self.pid)
            Processes.onThread {
                // A FIFO that cannot be opened would leave criu waiting for ever: it goes.
                if !Self.copy(fifo, to: target, until: ended) { _ = kill(pid, SIGKILL) }
                copied.set()
            }
            let exit = await self.exit.value
            while !copied.isSet { try? await Task.sleep(for: .milliseconds(2)) }
            unlink(fifo)
            guard exit == .exited(0) else {
                let text = (try? String(contentsOfFile: target, encoding: .utf8)) ?? ""
                throw Migration.CRIU.Failure(step: step, exit: "\(exit)", log: text)
            }
        }

        /// Kills a run that will not be used, and removes its FIFO.
        func cancel() async {
            abandon()
            _ = await exit.value
            unlink(fifo)
        }

        /// Kills a run that will not be used, without waiting (the reaper collects it).
        func abandon() {
            if !ended.isSet { _ = kill(pid, SIGKILL) }
            pageSocket?.release()
        }

        /// Copies what criu writes into `fifo` to `target` until criu has ended and nothing is
        /// left to read (a descriptor some child kept does not hold the copy up); false if the
        /// FIFO could not be opened.
        private static func copy(_ fifo: String, to target: String, until ended: Agent.Flag) -> Bool {
            // Not blocking: criu, waiting in its own open, goes on as soon as a reader is
            // there (and a criu that already ended would leave a blocking open waiting).
            let input = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            defer {
                if input >= 0 { close(input) }
                if output >= 0 { close(output) }
            }
            guard input >= 0 else { return false }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                var poller = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, 20)
                if ready > 0 {
                    let got = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                    if got < 0 && errno == EAGAIN { continue }
                    // The end: criu closed the log (a FIFO reads empty until a writer came).
                    if got <= 0 && (ended.isSet || got < 0) { return true }
                    if got <= 0 {
                        usleep(2000)
                        continue
                    }
                    if output >= 0 { _ = buffer.withUnsafeBytes { write(output, $0.baseAddress, got) } }
                } else if ended.isSet {
                    return true
                }
            }
        }
    }
}
