import ClusterControl
import ClusterWire
import Foundation
import Testing
@testable import Agent

/// The job router ranks members by figures they gossip, so extreme values must not trap.
@Suite struct AgentJobRouterTests {
    static func member(loadMilli: UInt32, runningJobs: UInt32, cpus: UInt16) -> Wire.MemberUpdate {
        Wire.MemberUpdate(node: Wire.NodeID(2), incarnation: 0, status: .alive, address: Wire.Address(host: "10.0.0.2", port: 7946),
                          load: Wire.NodeLoad(cpus: cpus, loadMilli: loadMilli, runningJobs: runningJobs))
    }

    /// A node that kept thousands of jobs answers a forwarded `ps` within one frame: running jobs
    /// first, then the newest, and a warning says how many were left out.
    @Test func aForwardedPsAnswerFitsInOneFrame() throws {
        let jobs = (0..<6000).map { index in
            Control.Job(id: "4c4201-\(index)", arguments: ["/bin/long-program", String(repeating: "x", count: 200)], owner: "ada", uid: 1000,
                        homeNode: "node-4c4201", currentNode: "node-4c4201", state: index % 1000 == 7 ? .running : .exited, exitCode: 0,
                        cpuSeconds: 1, memoryKiB: 1, migrations: 0, stay: false, startedAt: UInt64(index), namespacePID: 1)
        }
        let response = Control.Response.jobs(jobs)
        #expect(try JSONEncoder().encode(response).count > Wire.Stream.maxPayload, "the whole list would not fit")
        let fitted = Agent.JobRouter.fitted(jobs, budget: Agent.JobRouter.psReplyBudget, hostname: "node-4c4201")
        let bytes = try JSONEncoder().encode(fitted).count
        #expect(bytes <= Agent.JobRouter.psReplyBudget && bytes < Wire.Stream.maxPayload)
        guard case .jobs(let kept, let warnings) = fitted else {
            Issue.record("not a job list: \(fitted.kind)")
            return
        }
        #expect(kept.count > 1000 && kept.count < 6000)
        #expect(kept.prefix(6).allSatisfy { $0.state == .running }, "running jobs first")
        #expect(kept.dropFirst(6).first?.id == "4c4201-5999", "then the newest")
        #expect(warnings.last?.contains("listed \(kept.count) of its 6000 jobs") == true)
        let small = Array(jobs.prefix(3))
        #expect(Agent.JobRouter.fitted(small, budget: Agent.JobRouter.psReplyBudget, hostname: "n") == .jobs(small), "a short list is unchanged")
    }

    @Test func loadPerCPUCountsEachRunningJobAsOne() {
        #expect(Agent.JobRouter.loadPerCPU(Self.member(loadMilli: 500, runningJobs: 3, cpus: 2)) == 1.5)
        #expect(Agent.JobRouter.loadPerCPU(Self.member(loadMilli: 4000, runningJobs: 1, cpus: 0)) == 4)
    }

    @Test func extremeGossipedFiguresDoNotTrap() {
        let load = Agent.JobRouter.loadPerCPU(Self.member(loadMilli: .max, runningJobs: .max, cpus: 1))
        #expect(load == Double(UInt32.max))
    }
}
