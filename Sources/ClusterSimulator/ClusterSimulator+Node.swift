import Balancer
import ClusterWire
import Membership

extension ClusterSimulator {
    /// One simulated node: hardware, the jobs it runs, its agent's load average and its real
    /// ``Membership/State``.
    struct Node {
        var index: Int
        var hardware: Hardware
        var membership: Membership.State
        /// Jobs running here (migrating jobs are in neither node's list).
        var jobs: [Int] = []
        /// Migrations on their way here: counted in the published job count at once.
        var incoming = 0
        /// Memory of incoming migrations (reserved) and of the outgoing one (still held).
        var incomingMemoryKiB: UInt64 = 0
        var outgoingMemoryKiB: UInt64 = 0
        /// Memory of the jobs in ``jobs``.
        var jobMemoryKiB: UInt64 = 0
        var migrating = false
        /// Moves this node made that its gossip view may not show yet (as the agent keeps them).
        var arrivals = Balancer.Arrivals()
        /// The decaying average of runnable jobs.
        var smoothedLoad = 0.0
        /// Each load publication: (incarnation, when), for information age.
        var publications: [(incarnation: UInt64, at: Membership.Instant)] = []

        var id: Wire.NodeID { membership.me }

        var freeMemoryKiB: UInt64 {
            let used = hardware.baseMemoryKiB + jobMemoryKiB + incomingMemoryKiB + outgoingMemoryKiB
            return used >= hardware.memoryTotalKiB ? 0 : hardware.memoryTotalKiB - used
        }

        /// CPU capacity in reference-core seconds per second.
        func capacity(settings: Balancer.Settings) -> Double {
            Double(hardware.cpus) * Double(hardware.cpuMHz) / settings.referenceMHz
        }

        /// What the agent would gossip now.
        var load: Wire.NodeLoad {
            Wire.NodeLoad(
                cpus: UInt16(hardware.cpus), cpuMHz: UInt32(hardware.cpuMHz),
                loadMilli: UInt32((smoothedLoad * 1000).rounded()), freeMemoryKiB: freeMemoryKiB,
                runningJobs: UInt32(jobs.count + incoming), agentVersion: "sim")
        }

        /// The balancer's view of this node.
        var balancerNode: Balancer.Node {
            Balancer.Node(
                id: id.rawValue, cpus: hardware.cpus, cpuMHz: hardware.cpuMHz, load: smoothedLoad,
                runningJobs: jobs.count + incoming, memoryTotalKiB: hardware.memoryTotalKiB,
                memoryFreeKiB: freeMemoryKiB, acceptsJobs: hardware.acceptsJobs)
        }

        /// The publication a member's view holds (the latest at or below `incarnation`) and the
        /// one that superseded it, if any.
        func publication(holding incarnation: UInt64) -> (held: Membership.Instant?, superseded: Membership.Instant?) {
            var low = 0
            var high = publications.count
            while low < high {
                let mid = (low + high) / 2
                if publications[mid].incarnation <= incarnation { low = mid + 1 } else { high = mid }
            }
            let held = low > 0 ? publications[low - 1].at : nil
            let superseded = low < publications.count ? publications[low].at : nil
            return (held, superseded)
        }

        /// Whether a new load differs enough from the published one to gossip it: the agent's
        /// rule (`Agent.LoadSampler.worthPublishing`): capacity or job count changed, load moved by
        /// ≥ 0.05, or free memory by ≥ 1 %.
        static func worthPublishing(_ new: Wire.NodeLoad, over old: Wire.NodeLoad) -> Bool {
            if new.cpus != old.cpus || new.cpuMHz != old.cpuMHz || new.runningJobs != old.runningJobs { return true }
            let loadDelta = new.loadMilli > old.loadMilli ? new.loadMilli - old.loadMilli : old.loadMilli - new.loadMilli
            let memoryDelta = new.freeMemoryKiB > old.freeMemoryKiB
                ? new.freeMemoryKiB - old.freeMemoryKiB : old.freeMemoryKiB - new.freeMemoryKiB
            return loadDelta >= 50 || memoryDelta * 100 >= max(old.freeMemoryKiB, 1)
        }
    }
}
