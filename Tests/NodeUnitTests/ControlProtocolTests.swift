import ClusterControl
import Foundation
import Testing

/// The control protocol's typed requests and answers keep their JSON shape on the wire (what
/// scripts and older `cluster` binaries send), and say what a request lacks.
@Suite struct ControlProtocolTests {
    static func decode(_ json: String) throws -> Control.Request {
        try JSONDecoder().decode(Control.Request.self, from: Data(json.utf8))
    }

    static let spec = Control.RunSpec(arguments: ["sleep", "1"], workingDirectory: "/home/ada", environment: ["A=1"])

    @Test(arguments: [
        (#"{"command":"nodes"}"#, Control.Request.nodes),
        (#"{"command":"status"}"#, .status),
        (#"{"command":"ps"}"#, .ps()),
        (#"{"command":"ps","local":true}"#, .ps(localOnly: true)),
        (#"{"command":"kill","job":"4c4201-7"}"#, .kill(job: "4c4201-7")),
        (#"{"command":"logs","job":"4c4201-7"}"#, .logs(job: "4c4201-7")),
        (#"{"command":"logs","job":"4c4201-7","offsets":{"stdout":5,"stderr":6}}"#, .logs(job: "4c4201-7", from: .init(stdout: 5, stderr: 6))),
        (#"{"command":"migrate","job":"4c4201-7","node":"home"}"#, .migrate(job: "4c4201-7", to: "home", method: .automatic)),
        (#"{"command":"migrate","job":"4c4201-7","node":"n2","precopy":true}"#, .migrate(job: "4c4201-7", to: "n2", method: .precopy)),
        (#"{"command":"migrate","job":"4c4201-7","node":"n2","noPrecopy":true}"#, .migrate(job: "4c4201-7", to: "n2", method: .stopAndCopy)),
        (#"{"command":"migrate","job":"4c4201-7","node":"n2","postcopy":true}"#, .migrate(job: "4c4201-7", to: "n2", method: .postcopy)),
        (#"{"cancel":true,"command":"migrate","job":"4c4201-7"}"#, .cancelMove(job: "4c4201-7")),
        (#"{"command":"stay","job":"4c4201-7"}"#, .stay(job: "4c4201-7", pinned: true)),
        (#"{"command":"stay","job":"4c4201-7","stay":false}"#, .stay(job: "4c4201-7", pinned: false)),
        (#"{"command":"drain"}"#, .drain()),
        (#"{"command":"drain","node":"n3"}"#, .drain(node: "n3")),
        (#"{"command":"balance"}"#, .balance()),
        (#"{"command":"balance","enabled":false}"#, .balance(enabled: false)),
        (#"{"command":"pending"}"#, .pending),
        (#"{"command":"admit","selector":"all"}"#, .admit(selector: "all")),
        (#"{"command":"deny","selector":"52:54:00:12:34:56"}"#, .deny(selector: "52:54:00:12:34:56")),
        (#"{"command":"run","run":{"arguments":["sleep","1"],"workingDirectory":"/home/ada","environment":["A=1"],"stay":false},"node":"n2"}"#,
         .run(spec, node: "n2")),
        // Fields a command does not use are ignored, as before.
        (#"{"command":"nodes","job":"4c4201-7","local":true}"#, .nodes),
    ])
    func requestsReadTheWireShape(json: String, request: Control.Request) throws {
        #expect(try Self.decode(json) == request)
        // And each request survives a round trip.
        #expect(try JSONDecoder().decode(Control.Request.self, from: JSONEncoder().encode(request)) == request)
    }

    @Test(arguments: [
        (#"{"command":"kill"}"#, "kill: no job id given"),
        (#"{"command":"logs","job":""}"#, "logs: no job id given"),
        (#"{"command":"migrate","job":"4c4201-7"}"#, "migrate: no destination node given"),
        (#"{"command":"migrate","job":"4c4201-7","node":"n2","precopy":true,"postcopy":true}"#, "migrate: precopy, noPrecopy and postcopy do not go together"),
        (#"{"command":"run"}"#, "run: no command given"),
    ])
    func aRequestThatLacksWhatItNeedsSaysWhat(json: String, message: String) {
        #expect(throws: Control.Request.Malformed(description: message)) { try Self.decode(json) }
    }

    @Test func unknownCommandsAreUnreadable() {
        #expect(throws: DecodingError.self) { try Self.decode(#"{"command":"reboot"}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"[]"#) }
    }

    @Test func aForwardedDrainOrMigrationWaitsForItToFinish() {
        // A forwarded drain answered after 5 s while the drain went on: `cluster drain OTHERNODE`
        // reported a failure.
        #expect(Control.Request.drain(node: "n2").forwardingTimeout >= .seconds(3600))
        #expect(Control.Request.migrate(job: "4c4201-7", to: "n2").forwardingTimeout == .seconds(900))
        #expect(Control.Request.ps().forwardingTimeout == .seconds(5))
        #expect(Control.Request.kill(job: "4c4201-7").forwardingTimeout == .seconds(5))
    }

    @Test func answersKeepTheirWireShape() throws {
        let answers: [(Control.Response, String)] = [
            (.error("no job 4c4201-7"), #"{"error":"no job 4c4201-7"}"#),
            (.balancing(true), #"{"balancing":true}"#),
            (.jobs([]), #"{"jobs":[]}"#),
            (.jobs([], warnings: ["n2 did not answer"]), #"{"jobs":[],"warnings":["n2 did not answer"]}"#),
            (.migrations([], warnings: ["job 4c4201-7 stays"]), #"{"migrations":[],"warnings":["job 4c4201-7 stays"]}"#),
            (.admissions([]), #"{"admissions":[]}"#),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for (answer, json) in answers {
            #expect(String(decoding: try encoder.encode(answer), as: UTF8.self) == json)
            #expect(try JSONDecoder().decode(Control.Response.self, from: Data(json.utf8)) == answer)
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Control.Response.self, from: Data("{}".utf8)) }
    }

    @Test func jobStatesAreTheirNamesOnTheWire() throws {
        #expect(Control.Job.State.allCases.map(\.rawValue) == ["running", "exited", "killed", "failed", "moved"])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Control.Job.State.self, from: Data(#""sleeping""#.utf8)) }
    }
}
