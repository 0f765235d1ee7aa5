#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Admission

extension FuzzTargets {
    /// The admission port's decoder, as the head reads a request line from anyone on the LAN
    /// (`Admission.Request.decode`, then the head's book), and the node's, as it reads the
    /// head's answer (`Admission.Response.decode`, then opening a sealed key).
    public static func admission(_ bytes: [UInt8]) {
        let line = bytes.prefix(Admission.maxMessage + 1).prefix { $0 != UInt8(ascii: "\n") }
        if let request = try? Admission.Request.decode(line) {
            // What decodes is valid, and survives a round trip.
            guard (try? request.validate()) != nil else { preconditionFailure("\(request) decoded but is invalid") }
            guard let encoded = try? JSONEncoder().encode(request),
                  (try? Admission.Request.decode(Array(encoded))) == request else {
                preconditionFailure("\(request) does not re-decode to itself")
            }
            var book = Admission.Book(policy: .listed(["52:54:00:12:34:56"]))
            _ = book.consider(request, from: "10.0.0.9", now: .now)
            _ = book.matching(String(decoding: line.prefix(80), as: UTF8.self))
            precondition(book.entries.count <= Admission.Book.capacity)
        }
        // A fresh applicant per input (a lazily made global one is reported by LeakSanitizer
        // at exit, as an allocation of the first input that is never freed).
        if let response = Admission.Response.decode(line) {
            let applicant = Admission.Applicant(node: "525400123456", hostname: "node2", macs: ["52:54:00:12:34:56"], serial: nil)
            _ = applicant.outcome(of: response, cluster: "fuzz")
        }
    }

    /// A request and answers as the real encoders write them (fixed bytes: seeds must not change).
    static func admissionSeeds() -> [(name: String, value: any Encodable)] {
        let request = Admission.Request(
            node: "525400123456", hostname: "node2", macs: ["52:54:00:12:34:56"], serial: "SN-0001",
            publicKey: Data((0..<32).map { UInt8($0 &* 7 &+ 1) }))
        return [
            ("request", request),
            ("pending", Admission.Response.pending(fingerprint: request.fingerprint)),
            ("denied", Admission.Response.denied("denied by root")),
            ("admitted", Admission.Response.admitted(Admission.Sealed(
                encapsulatedKey: Data(repeating: 9, count: 32), ciphertext: Data(repeating: 7, count: 48)))),
        ]
    }
}
