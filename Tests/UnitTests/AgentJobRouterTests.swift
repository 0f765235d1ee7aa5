import ClusterWire
import Testing
@testable import Agent

/// The job router ranks members by figures they gossip, so extreme values must not trap.
@Suite struct AgentJobRouterTests {
    static func member(loadMilli: UInt32, runningJobs: UInt32, cpus: UInt16) -> Wire.MemberUpdate {
        Wire.MemberUpdate(node: Wire.NodeID(2), incarnation: 0, status: .alive, address: Wire.Address(host: "10.0.0.2", port: 7946),
                          load: Wire.NodeLoad(cpus: cpus, loadMilli: loadMilli, runningJobs: runningJobs))
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
