import Foundation
import Testing
import ClusterControl
import FuzzTargets
@testable import Agent

/// Every committed fuzz input (Tests/Fuzz/Seeds/TARGET/*, and the inputs that once crashed a
/// target, Tests/Fuzz/Crashes/TARGET/*) run through its target: a crash found by `make fuzz` and
/// fixed stays fixed. A failure here is a trap: the test process stops on the input.
struct FuzzRegressionTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func inputs(in kind: String) -> [(target: String, path: String)] {
        let base = fuzzDirectory.appendingPathComponent(kind)
        let targets = (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []
        return targets.sorted().flatMap { target in
            let directory = base.appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.sorted().filter { !$0.hasPrefix(".") }.map { (target, directory.appendingPathComponent($0).path) }
        }
    }

    @Test func everySeedAndCrashRunsThroughItsTarget() throws {
        let seeds = Self.inputs(in: "Seeds")
        #expect(Set(seeds.map(\.target)) == Set(FuzzTargets.all.map(\.name)), "every target has seeds")
        for (name, path) in seeds + Self.inputs(in: "Crashes") {
            let target = try #require(FuzzTargets.named(name), "\(path) is under an unknown target")
            target.run(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        }
    }

    @Test func theCommittedSeedsAreTheGeneratedOnes() throws {
        for seed in FuzzTargets.seeds() {
            let path = Self.fuzzDirectory.appendingPathComponent("Seeds/\(seed.target)/\(seed.name)").path
            let committed = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(Array(committed) == seed.bytes, "\(path) is stale: livebuild-fuzz --write-seeds Tests/Fuzz/Seeds")
        }
    }

    /// The control target reads peer frames through a copy of `Agent.PeerFrame`'s shape.
    @Test func thePeerFrameShapeReadsWhatAgentWrites() throws {
        let request = Control.Request.kill(job: "0a1b2c-17")
        let forwarded = try JSONEncoder().encode(Agent.PeerFrame.request(Agent.PeerRequest(request: request, uid: 1000, gid: 100)))
        let frame = try JSONDecoder().decode(FuzzTargets.PeerFrame.self, from: forwarded)
        #expect(frame.request?.request == request && frame.request?.uid == 1000 && frame.request?.gid == 100 && frame.migration == nil)
        let start = try JSONDecoder().decode(FuzzTargets.PeerFrame.self, from: JSONEncoder().encode(Agent.PeerFrame.migration))
        #expect(start.migration == true && start.request == nil)
    }
}
