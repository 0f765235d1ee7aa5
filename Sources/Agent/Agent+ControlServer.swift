#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import CJobs
import ClusterControl
import Jobs
import NodeError
import Logging
import Membership
import NIOCore
import NIOPosix

extension Agent {
    /// The control socket: a Unix stream socket that answers one JSON request per connection.
    ///
    /// Access is the filesystem's: the socket is mode 0660 owned by root and the `cluster`
    /// group, inside a 0750 directory of the same ownership, so only root and that group's
    /// members can connect. Without the group (tests, hand runs) it is root-only (0600).
    struct ControlServer: Sendable {
        let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        let path: String
        let logger: Logger

        /// Largest request accepted: a `run` carries the caller's environment.
        static let maxRequest = 256 * 1024

        static func bind(path: String, group: String?, logger: Logger) async throws -> ControlServer {
            let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            let gid = group.flatMap(groupID)
            if !directory.isEmpty {
                var info = stat()
                if stat(directory, &info) != 0 {
                    guard mkdir(directory, 0o750) == 0 else {
                        throw Failure("cannot create the control socket directory \(directory): \(String(cString: strerror(errno)))")
                    }
                    if let gid { _ = chown(directory, 0, gid) } else { _ = chmod(directory, 0o700) }
                }
            }
            let previous = umask(0o177)
            defer { umask(previous) }
            let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
            do {
                channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { child in
                        child.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                        }
                    }
            } catch {
                throw Failure("cannot open the control socket \(path): \(error)")
            }
            if let gid {
                _ = chown(path, 0, gid)
                _ = chmod(path, 0o660)
            } else if let group {
                logger.warning("group '\(group)' does not exist: the control socket \(path) is usable by root only")
            }
            return ControlServer(channel: channel, path: path, logger: logger)
        }

        static func groupID(_ name: String) -> gid_t? {
            guard let entry = getgrnam(name) else { return nil }
            return entry.pointee.gr_gid
        }

        /// Answers connections until cancelled.
        func serve(
            core: CoreSlot, jobs: Jobs.Supervisor, balancing: Balancing, desk: AdmissionDesk?,
            now: @escaping @Sendable () -> Membership.Instant
        ) async throws {
            try await channel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask {
                            do {
                                try await answer(connection, core: core, jobs: jobs, balancing: balancing, desk: desk, now: now)
                            } catch {
                                logger.debug("control connection failed: \(error)")
                            }
                        }
                    }
                }
            }
        }

        private func answer(
            _ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, core: CoreSlot, jobs: Jobs.Supervisor,
            balancing: Balancing, desk: AdmissionDesk?, now: @escaping @Sendable () -> Membership.Instant
        ) async throws {
            // Who is asking: jobs run as, and may be killed only by, the connecting user.
            let caller = try? await (connection.channel as? SocketOptionProvider)?
                .unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)).get() as cjobs_ucred?
            try await connection.executeThenClose { inbound, outbound in
                var request: [UInt8] = []
                for try await buffer in inbound {
                    request += buffer.readableBytesView
                    if request.contains(UInt8(ascii: "\n")) || request.count > Self.maxRequest { break }
                }
                let response = await respond(to: request, caller: caller, core: core, jobs: jobs, balancing: balancing, desk: desk, now: now)
                var encoded = (try? JSONEncoder().encode(response)).map(Array.init) ?? Array(#"{"error":"cannot encode the answer"}"#.utf8)
                encoded.append(UInt8(ascii: "\n"))
                try await outbound.write(ByteBuffer(bytes: encoded))
            }
        }

        private func respond(
            to bytes: [UInt8], caller: cjobs_ucred?, core slot: CoreSlot, jobs: Jobs.Supervisor, balancing: Balancing,
            desk: AdmissionDesk?, now: @Sendable () -> Membership.Instant
        ) async -> Control.Response {
            let line = bytes.prefix { $0 != UInt8(ascii: "\n") }
            let request: Control.Request
            do {
                request = try JSONDecoder().decode(Control.Request.self, from: Data(line))
            } catch let malformed as Control.Request.Malformed {
                return .error(malformed.description)
            } catch {
                let known = Control.Request.Command.allCases.map(\.rawValue).joined(separator: ", ")
                return .error("unreadable request: expected one JSON object {\"command\": ...} with a command among \(known)")
            }
            guard let core = await slot.core else {
                return .error("clusterd is starting: \(await slot.waitingFor)")
            }
            switch request {
            case .nodes:
                return .nodes(await core.nodes(now: now(), wallClock: UInt64(time(nil))))
            case .status:
                return .status(await core.status(now: now()))
            case .run, .ps, .kill, .logs, .migrate, .cancelMove, .stay, .drain:
                do {
                    return try await JobRouter(core: core, jobs: jobs, uid: caller?.uid, gid: caller?.gid, logger: logger, balancing: balancing).respond(to: request)
                } catch let failure as NodeError {
                    return .error(failure.description)
                } catch {
                    return .error("\(error)")
                }
            case .balance(let enabled):
                if let enabled {
                    guard caller?.uid == 0 else { return .error("only root can switch balancing") }
                    await balancing.set(enabled: enabled)
                }
                return .balancing(await balancing.enabled)
            case .pending, .admit, .deny:
                guard let desk else {
                    return .error("\(request.command.rawValue): this node is not the head; nodes ask the head to join (cluster.role=head)")
                }
                switch request {
                case .admit(let selector), .deny(let selector):
                    guard caller?.uid == 0 else { return .error("only root can \(request.command.rawValue) nodes") }
                    guard !selector.isEmpty else {
                        return .error("\(request.command.rawValue): name a node by fingerprint, MAC, node id or host name, or `all`; `cluster pending` lists them")
                    }
                    let decided = await desk.decide(selector, admit: request.command == .admit, by: "root", now: .now)
                    guard !decided.isEmpty else {
                        return .error("\(request.command.rawValue): no waiting node matches \"\(selector.prefix(64))\" (a fingerprint needs 4 digits or more and must name one node); `cluster pending` lists them")
                    }
                    return .admissions(decided)
                default:
                    return .admissions(await desk.list(now: .now))
                }
            }
        }
    }
}
