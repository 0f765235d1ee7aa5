@testable import Agent
import Testing

/// The peer server's stream caps (Docs/security.md): before authentication per source and in
/// all; after it per member, per source address and in all, so a key holder that claims many
/// node ids from one host still holds only that host's share.
@Suite struct StreamAdmissionTests {
    @Test func aKeyHolderClaimingManyNodeIDsFromOneHostGetsOneHostsShare() {
        var admission = Agent.StreamAdmission()
        var held = 0
        var refusals: [Agent.StreamAdmission.Refusal] = []
        for index in 0..<64 {
            // A fresh node id every 4 streams, all from one address.
            if let refusal = admission.admit(source: "10.0.0.66") {
                refusals.append(refusal)
                continue
            }
            if let refusal = admission.authenticated(source: "10.0.0.66", peer: UInt64(index / 4)) {
                refusals.append(refusal)
            } else {
                held += 1
            }
        }
        #expect(held == 16 && refusals.allSatisfy { $0 == .tooManyStreamsFromSource }, "\(held) held, \(refusals.count) refused")
        // Others still get in.
        #expect(admission.admit(source: "10.0.0.7") == nil)
        #expect(admission.authenticated(source: "10.0.0.7", peer: 700) == nil)
        // Releasing gives the host's share back.
        admission.release(peer: 0, source: "10.0.0.66")
        #expect(admission.admit(source: "10.0.0.66") == nil)
        #expect(admission.authenticated(source: "10.0.0.66", peer: 99) == nil)
        #expect(admission.establishedCount == 17)
    }

    @Test func oneMemberAndTheWholeAreCappedToo() {
        var admission = Agent.StreamAdmission(limits: .init(pendingTotal: 64, pendingPerSource: 64, establishedTotal: 20, establishedPerPeer: 3, establishedPerSource: 64))
        for _ in 0..<3 {
            _ = admission.admit(source: "a")
            #expect(admission.authenticated(source: "a", peer: 1) == nil)
        }
        _ = admission.admit(source: "a")
        #expect(admission.authenticated(source: "a", peer: 1) == .tooManyStreamsFromPeer)
        for peer in 2..<30 {
            _ = admission.admit(source: "b\(peer)")
            _ = admission.authenticated(source: "b\(peer)", peer: UInt64(peer))
        }
        #expect(admission.establishedCount == 20)
        _ = admission.admit(source: "z")
        #expect(admission.authenticated(source: "z", peer: 99) == .tooManyStreams)
    }
}
