#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Admission
import ClusterWire
import Logging
import NIOCore
import NIOPosix

extension Agent {
    /// A node that booted without the cluster key asks the head for it (Docs/security.md,
    /// "Admission"), every few seconds until an administrator or the head's policy admits it,
    /// then writes it where the agent reads it.
    public enum AdmissionClient {
        /// Asks `server` until admitted; returns the key. Prints the fingerprint to compare on
        /// the head.
        public static func obtainKey(
            server: Wire.Address, applicant: Admission.Applicant, cluster: String, logger: Logger,
            interval: Duration = .seconds(3)
        ) async throws -> [UInt8] {
            let fingerprint = applicant.request.fingerprint
            logger.notice("no cluster key: asking \(server) to join as \(applicant.request.hostname), fingerprint \(fingerprint); on the head: cluster admit \(fingerprint)")
            var line = Array(try JSONEncoder().encode(applicant.request))
            line.append(UInt8(ascii: "\n"))
            var lastSaid = ""
            while true {
                try Task.checkCancellation()
                let answer = try? await exchange(line, with: server)
                let outcome = applicant.outcome(of: answer.flatMap { Admission.Response.decode($0) }, cluster: cluster)
                var wait = interval
                switch outcome {
                case .key(let key):
                    logger.notice("admitted by \(server): cluster key received")
                    return key
                case .waiting:
                    if lastSaid != "waiting" { logger.notice("waiting for admission at \(server) (fingerprint \(fingerprint))") }
                    lastSaid = "waiting"
                case .denied(let reason):
                    if lastSaid != "denied" { logger.warning("\(server) denied admission: \(reason); asking again every 30 s") }
                    lastSaid = "denied"
                    wait = .seconds(30)
                case .unreadable:
                    if lastSaid != "unreadable" { logger.notice("no usable answer from \(server) yet; asking again") }
                    lastSaid = "unreadable"
                }
                try await Task.sleep(for: wait)
            }
        }

        /// One request line out, one response line (at most ``Admission/maxMessage``) back,
        /// within 5 s.
        static func exchange(_ line: [UInt8], with server: Wire.Address) async throws -> [UInt8] {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(2))
                .connect(host: server.host, port: Int(server.port)) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let timer = channel.channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.channel.close(promise: nil) }
            defer { timer.cancel() }
            return try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(bytes: line))
                var answer: [UInt8] = []
                for try await buffer in inbound {
                    answer += buffer.readableBytesView
                    if answer.contains(UInt8(ascii: "\n")) || answer.count > Admission.maxMessage { break }
                }
                return Array(answer.prefix { $0 != UInt8(ascii: "\n") })
            }
        }

        /// Writes the key as the key file the agent reads: 64 hex digits, mode 0600, through a
        /// temporary file and rename.
        public static func write(_ key: [UInt8], to path: String) throws(Failure) {
            let text = Wire.Keys.KeyFile.text(key)
            let temporary = path + ".admitted-\(getpid())"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw Failure("cannot write \(temporary): \(String(cString: strerror(errno)))") }
            let bytes = Array(text.utf8)
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            guard written == bytes.count, rename(temporary, path) == 0 else {
                unlink(temporary)
                throw Failure("cannot write the cluster key \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}
