#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import ClusterControl
import ClusterWire
import Logging
import Migration
import NIOCore
import NIOPosix
import Processes

extension Agent {
    /// `criu check`, run once per agent: a node where it fails never receives jobs.
    actor CRIUCheck {
        static let shared = CRIUCheck()
        private var result: String??
        private var version: (major: Int, minor: Int)??

        /// criu's version, asked once (nil: it did not say).
        func version(criu: Migration.CRIU, work: String) async -> (major: Int, minor: Int)? {
            if let version { return version }
            let log = work + "/criu-version.log"
            let found: (major: Int, minor: Int)?
            if (try? await Processes.run(criu.version(), log: log, directory: work)) == .exited(0) {
                found = Migration.CRIU.version(fromOutput: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
            } else {
                found = nil
            }
            version = .some(found)
            return found
        }

        func problem(
            criu: Migration.CRIU, work: String,
            run: (_ arguments: [String], _ directory: String, _ log: String) async throws -> Processes.Exit
        ) async -> String? {
            if let result { return result }
            var found: String?
            do {
                _ = try await run(criu.check(), work, "criu-output.log")
            } catch {
                found = "\(error)"
            }
            result = .some(found)
            return found
        }

        /// The check at agent start, in its own directory; logs why CRIU does not work.
        func works(logger: Logger) async -> Bool {
            let directory = "/run/clusterd/criu-check"
            _ = Migration.makeDirectories(directory)
            var info = stat()
            guard stat(Migration.CRIU().program, &info) == 0 else {
                result = .some("criu is not installed")
                logger.notice("criu is not installed: this node neither sends nor receives jobs")
                return false
            }
            let problem = await problem(criu: Migration.CRIU(), work: directory) { arguments, directory, _ in
                let exit = try await Processes.run(arguments, log: directory + "/criu-output.log", directory: directory)
                guard exit == .exited(0) else { throw Failure("criu check failed (\(exit)); see \(directory)/criu-output.log") }
                return exit
            }
            if let problem { logger.notice("\(problem): this node takes no jobs from others") }
            // Asked now rather than during a job's first restore, while it is down.
            _ = await version(criu: Migration.CRIU(), work: directory)
            return problem == nil
        }
    }
}
