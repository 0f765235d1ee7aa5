#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterControl
import Jobs

extension FuzzTargets {
    /// The control socket's decoder, as `Agent.ControlServer` reads a request (the first line,
    /// at most 256 KiB, as JSON), and the first frame of a peer stream, as `Agent.PeerServer`
    /// reads it. The frame's types are internal to Agent; ``PeerFrame`` has their JSON shape
    /// (`FuzzRegressionTests` checks that it reads what Agent writes).
    public static func control(_ bytes: [UInt8]) {
        let line = bytes.prefix(256 * 1024).prefix { $0 != UInt8(ascii: "\n") }
        if let request = try? JSONDecoder().decode(Control.Request.self, from: Data(line)) {
            check(request)
        }
        if let frame = try? JSONDecoder().decode(PeerFrame.self, from: Data(bytes)), let forwarded = frame.request {
            check(forwarded.request)
            let trust = Jobs.Trust()
            _ = trust.refusal(uid: forwarded.uid, gid: forwarded.gid, localGroups: [forwarded.gid])
            _ = trust.permits(forwarded.uid, on: forwarded.gid, viaPeer: true)
        }
    }

    /// What the agent does with a request before it acts: the job id's pattern; and the
    /// request must survive a round trip.
    private static func check(_ request: Control.Request) {
        if let job = request.job { _ = Jobs.Layout.isJobID(job) }
        guard let encoded = try? JSONEncoder().encode(request) else { preconditionFailure("\(request) does not encode") }
        precondition((try? JSONDecoder().decode(Control.Request.self, from: encoded)) == request, "\(request) does not re-decode to itself")
    }

    /// The JSON shape of `Agent.PeerFrame`: a forwarded request with the caller's uid and gid,
    /// or the start of a migration.
    public struct PeerFrame: Codable, Sendable, Equatable {
        public struct Request: Codable, Sendable, Equatable {
            public var request: Control.Request
            public var uid: UInt32
            public var gid: UInt32
        }

        public var request: Request?
        public var migration: Bool?
    }
}
