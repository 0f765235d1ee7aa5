@testable import Admission
import Foundation
import Testing

/// Admission's pure parts: requests checked field by field, the head's book under each policy
/// and under floods, and the sealing of the key (Docs/security.md, "Admission").
@Suite struct AdmissionUnitTests {
    static func applicant(_ name: String, mac: String? = nil) -> Admission.Applicant {
        Admission.Applicant(node: "52540012345\(name.count)", hostname: name, macs: mac.map { [$0] } ?? [], serial: nil)
    }

    @Test func theKeyOpensOnlyForTheNodeItWasSealedTo() throws {
        let key = (0..<32).map { UInt8($0) }
        let node = Self.applicant("node2")
        let sealed = try Admission.seal(key, for: node.request, cluster: "lab")
        #expect(node.outcome(of: .admitted(sealed), cluster: "lab") == .key(key))
        #expect(node.outcome(of: .admitted(sealed), cluster: "other") == .unreadable, "bound to the cluster's name")
        #expect(Self.applicant("node3").outcome(of: .admitted(sealed), cluster: "lab") == .unreadable, "another node's key")
        var tampered = sealed
        tampered.ciphertext[tampered.ciphertext.startIndex] ^= 1
        #expect(node.outcome(of: .admitted(tampered), cluster: "lab") == .unreadable)
        #expect(node.outcome(of: Admission.Response.decode(Array("garbage".utf8)), cluster: "lab") == .unreadable)
        #expect(node.request.fingerprint.split(separator: "-").count == 8)
    }

    @Test func requestsAreCheckedFieldByField() throws {
        let good = Self.applicant("node2", mac: "52:54:00:12:34:56").request
        let encoded = try JSONEncoder().encode(good)
        #expect(try Admission.Request.decode(Array(encoded)) == good)
        var bad: [Admission.Request] = []
        for change in [
            { (r: inout Admission.Request) in r.node = "../x" }, { $0.node = "" }, { $0.node = String(repeating: "a", count: 17) },
            { $0.hostname = "a b" }, { $0.hostname = "-x" }, { $0.hostname = String(repeating: "h", count: 64) },
            { $0.macs = ["52:54:00:12:34"] }, { $0.macs = Array(repeating: "52:54:00:12:34:56", count: 17) },
            { $0.serial = "" }, { $0.serial = "a\u{0}b" }, { $0.publicKey = Data(count: 31) },
        ] as [(inout Admission.Request) -> Void] {
            var request = good
            change(&request)
            bad.append(request)
        }
        for request in bad {
            #expect(throws: Admission.Request.Invalid.self) { try Admission.Request.decode(Array(try JSONEncoder().encode(request))) }
        }
        #expect(throws: Admission.Request.Invalid.self) { try Admission.Request.decode(Array(repeating: UInt8(ascii: " "), count: 9000)) }
        #expect(Admission.Request.cleanSerial("  \u{7}") == nil && Admission.Request.cleanSerial(" SN-1 ") == "SN-1")
    }

    @Test func theBookFollowsItsPolicy() {
        let start = ContinuousClock.now
        var manual = Admission.Book(policy: .manual)
        let node = Self.applicant("node2", mac: "52:54:00:00:00:02").request
        #expect(manual.consider(node, from: "10.0.0.2", now: start) == .pending(fingerprint: node.fingerprint))
        #expect(manual.admit("nothing-like-it", by: "root").isEmpty)
        #expect(manual.admit(String(node.fingerprint.prefix(4)), by: "root").count == 1)
        #expect(manual.consider(node, from: "10.0.0.2", now: start) == .admit)
        _ = manual.deny("node2", by: "root")
        #expect(manual.consider(node, from: "10.0.0.2", now: start) == .denied("denied by root"))

        var listed = Admission.Book(policy: .listed(["52:54:00:00:00:02"]))
        #expect(listed.consider(node, from: "10.0.0.2", now: start) == .admit)
        let stranger = Self.applicant("node9", mac: "52:54:00:00:00:09").request
        #expect(listed.consider(stranger, from: "10.0.0.9", now: start) == .pending(fingerprint: stranger.fingerprint))

        var open = Admission.Book(policy: .open)
        #expect(open.consider(stranger, from: "10.0.0.9", now: start) == .admit)
    }

    @Test func theBookStaysBoundedUnderAFlood() {
        let start = ContinuousClock.now
        var book = Admission.Book(policy: .manual)
        for index in 0..<1_000 {
            _ = book.consider(Self.applicant("flood\(index)").request, from: "10.1.\(index / 250).\(index % 250)", now: start + .milliseconds(index))
        }
        #expect(book.entries.count == Admission.Book.capacity)
        for index in 0..<50 {
            _ = book.consider(Self.applicant("same\(index)").request, from: "10.9.9.9", now: start + .seconds(10) + .milliseconds(index))
        }
        #expect(book.list().filter { $0.source == "10.9.9.9" }.count == Admission.Book.perSource)
        let late = start + Admission.Book.expiry + .seconds(30)
        _ = book.consider(Self.applicant("late").request, from: "10.2.0.1", now: late)
        #expect(book.entries.count == 1, "entries not heard from for an hour are forgotten")
        #expect(book.matching("all").count == 1)
        #expect(book.matching("ab").isEmpty, "a prefix needs 4 digits")
    }
}
