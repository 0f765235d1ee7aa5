#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ClusterControl
import ClusterWire
import Jobs
import Logging
import Migration
import NIOCore
import NIOPosix

extension Agent.Migrator {
    // MARK: Destination

    /// Answers a migration stream whose first message was `first`.
    func receive(_ stream: Agent.SecureStream, first: Migration.Message, from peer: Wire.NodeID) async throws {
        if case .query(let id) = first {
            try await send(.state(running: await jobs.isRunningHere(id)), on: stream)
            return
        }
        guard case .offer(let id, _, _, let cpuinfo) = first else { throw Agent.Failure("a migration must begin with an offer") }
        let work = workRoot + "/\(id)-in"
        Migration.remove(work)
        guard Migration.makeDirectories(work) else {
            try await send(.refuse("cannot create \(work)"), on: stream)
            return
        }
        defer { Migration.remove(work) }
        if let problem = await Agent.CRIUCheck.shared.problem(criu: criu, work: work, run: runCRIU) {
            try await send(.refuse("CRIU cannot restore on this node: \(problem)"), on: stream)
            return
        }
        try cpuinfo.write(to: URL(fileURLWithPath: work + "/cpuinfo.img"))
        do {
            _ = try await runCRIU(criu.cpuinfoCheck(directory: work), in: work, log: "cpuinfo-check.log")
        } catch {
            try await send(.refuse("this CPU cannot run what the source's CPU dumped: \(error)"), on: stream)
            return
        }
        try await send(.accept, on: stream)
        var restoredPID: Int32?
        var receivedPages = false
        do {
            while true {
                let message = try await receive(on: stream)
                switch message {
                case .file(let round, let path, let size, let mode, let link) where round < 0:
                    _ = link
                    try await receiveOpenFile(path: path, size: size, mode: mode, on: stream)
                case .file(let round, let path, let size, let mode, let link):
                    if round == 1 && !receivedPages {
                        receivedPages = true
                        await Agent.FaultPoint.destinationReceiving.pass()
                    }
                    let directory = round == 0 ? jobs.layout.directory(id) : work + "/\(round)"
                    try await receiveFile(directory: directory, path: path, size: size, mode: mode, link: link, on: stream)
                case .restore(let round, let recordData):
                    let record = try JSONDecoder().decode(Jobs.Record.self, from: recordData)
                    let directory = work + "/\(round)"
                    let pidFile = work + "/restored.pid"
                    do {
                        _ = try await runCRIU(criu.restore(directory: directory, pidFile: pidFile), in: directory, log: "restore.log")
                    } catch {
                        try await send(.failed("\(error)"), on: stream)
                        return
                    }
                    guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                          let pid = Int32(text.filter { $0.isNumber }) else {
                        try await send(.failed("criu restore wrote no pid"), on: stream)
                        return
                    }
                    restoredPID = pid
                    await jobs.adoptRestored(record, pid: pid)
                    try await send(.restored(pid: pid), on: stream)
                case .commit:
                    if let pid = restoredPID { await jobs.continueRestored(id, pid: pid) }
                    try? await send(.done, on: stream)
                    return
                case .abort:
                    if let pid = restoredPID { await jobs.discardRestored(id, pid: pid) }
                    return
                default:
                    throw Agent.Failure("unexpected \(message) during a migration")
                }
            }
        } catch {
            // Lost the source. Restored and waiting: the source saw `restored` and dropped
            // its copy, or it will ask (query) and learn that we run it. Either way we run.
            if let pid = restoredPID {
                logger.warning("job \(id): lost the source after restoring; running it here")
                await jobs.continueRestored(id, pid: pid)
            } else {
                Migration.remove(jobs.layout.directory(id))
            }
            throw error
        }
    }
}
