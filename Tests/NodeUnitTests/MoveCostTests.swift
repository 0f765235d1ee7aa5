@testable import Agent
import Balancer
import Glibc
import Jobs
import Migration
import Testing

/// What a move costs: the balancer's prediction from a job's dirty rate and the link's rate,
/// the source's give-up when a job writes faster than predicted, and the soft-dirty
/// measurement the prediction starts from.
@Suite struct MoveCostTests {
    static let mib = 1024.0 * 1024

    static func settings(rate: Double = 40e6, restore: Double = 0.6) -> Balancer.Settings {
        var settings = Balancer.Settings()
        settings.transferRate = rate
        settings.restoreSeconds = restore
        return settings
    }

    @Test func aJobThatWritesNothingIsFrozenOnlyForTheRestore() {
        let prediction = Balancer.predictMove(memoryBytes: 200 * Self.mib, dirtyRate: 0, settings: Self.settings())
        #expect(prediction.finalBytes == 0)
        #expect(abs(Balancer.seconds(prediction.frozen) - 0.6) < 1e-9)
        #expect(abs(Balancer.seconds(prediction.total) - 200 * Self.mib / 40e6 - 0.6) < 1e-9)
    }

    /// The restore is lazy (the memory fills in while the job runs), so a large quiet job is
    /// frozen no longer than a small one, and the balancer moves it: as memory over a restore
    /// rate, 4 GiB looked frozen for 6 s at 670 MB/s and stayed.
    @Test func aLargeQuietJobIsFrozenNoLongerThanASmallOneAndMoves() {
        let small = Balancer.predictMove(memoryBytes: 16 * Self.mib, dirtyRate: 1e5, settings: Self.settings())
        let large = Balancer.predictMove(memoryBytes: 4096 * Self.mib, dirtyRate: 1e5, settings: Self.settings())
        #expect(abs(Balancer.seconds(large.frozen) - Balancer.seconds(small.frozen)) < 0.01)
        let local = Balancer.Node(id: 1, cpus: 1, cpuMHz: 2000, load: 2, runningJobs: 2, memoryTotalKiB: 16 << 20, memoryFreeKiB: 8 << 20, acceptsJobs: true)
        let idle = Balancer.Node(id: 2, cpus: 1, cpuMHz: 2000, load: 0, runningJobs: 0, memoryTotalKiB: 16 << 20, memoryFreeKiB: 12 << 20, acceptsJobs: true)
        let big = Balancer.Job(id: "big", memoryKiB: 4 << 20, runTime: .seconds(3600), dirtyRate: 1e5)
        let other = Balancer.Job(id: "other", memoryKiB: 4 << 20, runTime: .seconds(3600), dirtyRate: 1e5)
        let decision = Balancer.decide(local: local, jobs: [big, other], peers: [idle], migrationInProgress: false, settings: Self.settings())
        #expect(decision != nil)
        #expect(decision.map { Balancer.seconds($0.frozen) < 1 } == true)
    }

    @Test func aJobRewritingItsMemoryFasterThanTheLinkIsFrozenForAllOfIt() {
        // The issue's job: 200 MB rewritten all the time (here 1 GB/s), a 40 MB/s link.
        let prediction = Balancer.predictMove(memoryBytes: 200e6, dirtyRate: 1e9, settings: Self.settings())
        #expect(prediction.finalBytes == 200e6, "pre-copy never shrinks: the final dump copies everything")
        #expect(prediction.rounds == 2, "the second round copied no less than the first: pre-copy stops")
        #expect(Balancer.seconds(prediction.frozen) > 5)
    }

    @Test func aSlowWriterConvergesInAFewRounds() {
        // 1 GiB writing 4 MB/s on 40 MB/s: rounds shrink tenfold each time.
        let prediction = Balancer.predictMove(memoryBytes: 1024 * Self.mib, dirtyRate: 4e6, settings: Self.settings())
        #expect(prediction.rounds == 4, "1 GiB, then 107 MB, 10.7 MB, 1.07 MB: below 8 MiB, the last")
        #expect(prediction.finalBytes < 1 * Self.mib)
    }

    /// The prediction stops pre-copy where the source agent's own state machine does, fed the
    /// same round sizes.
    @Test(arguments: [0.0, 1e6, 4e6, 15e6, 30e6, 39e6, 80e6, 1e9])
    func thePredictionFollowsTheSourcesRules(dirtyRate: Double) {
        var settings = Self.settings()
        let policy = Migration.Source.Policy()
        settings.precopy.maximumRounds = policy.maxRounds
        settings.precopy.smallRound = Double(policy.smallRound)
        settings.precopy.shrinkFactor = policy.shrinkFactor
        let memory = 512 * Self.mib
        let prediction = Balancer.predictMove(memoryBytes: memory, dirtyRate: dirtyRate, settings: settings)
        var source = Migration.Source(job: "0a0b0c-1", destination: "n2", policy: policy)
        var step = source.accepted()
        var bytes = memory
        var rounds = 0
        while case .preDump = step {
            rounds += 1
            step = source.roundSent(bytes: UInt64(bytes))
            bytes = min(memory, dirtyRate * bytes / settings.transferRate)
        }
        #expect(rounds == prediction.rounds)
    }

    @Test func theBalancerLeavesAJobThatWouldBeFrozenTooLong() {
        let local = Balancer.Node(id: 1, cpus: 1, cpuMHz: 2000, load: 3, runningJobs: 3, memoryTotalKiB: 8 << 20, memoryFreeKiB: 7 << 20, acceptsJobs: true)
        let idle = Balancer.Node(id: 2, cpus: 1, cpuMHz: 2000, load: 0, runningJobs: 0, memoryTotalKiB: 8 << 20, memoryFreeKiB: 7 << 20, acceptsJobs: true)
        let writer = Balancer.Job(id: "w", memoryKiB: 200 << 10, runTime: .seconds(600), dirtyRate: 1e9)
        let quiet = Balancer.Job(id: "q", memoryKiB: 200 << 10, runTime: .seconds(600), dirtyRate: 1e6)
        let settings = Self.settings()
        #expect(Balancer.decide(local: local, jobs: [writer], peers: [idle], migrationInProgress: false, settings: settings) == nil)
        let decision = Balancer.decide(local: local, jobs: [writer, quiet], peers: [idle], migrationInProgress: false, settings: settings)
        #expect(decision?.job == "q")
        #expect(decision.map { Balancer.seconds($0.frozen) < 5 } == true)
        // Short of memory, the writer leaves anyway: a long freeze beats running out.
        let short = Balancer.Node(id: 1, cpus: 1, cpuMHz: 2000, load: 1, runningJobs: 1, memoryTotalKiB: 8 << 20, memoryFreeKiB: 100 << 10, acceptsJobs: true)
        #expect(Balancer.decide(local: short, jobs: [writer], peers: [idle], migrationInProgress: false, settings: settings)?.reason == .memory)
    }

    /// `cluster migrate` without a method: post-copy when what the job wrote in the window
    /// would take more than a second to send at the link's rate, and is at least 8 MiB.
    @Test func theAgentChoosesPostcopyForAJobThatWritesFasterThanTheLink() {
        typealias Migrator = Agent.Migrator
        let writer = Migrator.method(written: 182 * Self.mib, in: 0.5, linkRate: 26e6)
        #expect(writer.0 == .postcopy && writer.1.contains("182 MiB") && writer.1.contains("26 MB/s (measured)"), "\(writer.1)")
        #expect(Migrator.method(written: 182 * Self.mib, in: 0.5, linkRate: nil).0 == .postcopy, "1.9 s at the assumed 100 MB/s")
        #expect(Migrator.method(written: 182 * Self.mib, in: 0.5, linkRate: 1e9).0 == .precopy, "0.2 s on a gigabyte link")
        #expect(Migrator.method(written: 40e3, in: 0.5, linkRate: 26e6).0 == .precopy, "a page every 0.1 s")
        #expect(Migrator.method(written: 7 * Self.mib, in: 0.5, linkRate: 1e6).0 == .precopy, "below 8 MiB the final dump is short anyway")
        #expect(Migrator.method(written: 32 * Self.mib, in: 0.5, linkRate: 26e6).0 == .postcopy)
    }

    /// The limit as a freeze, at the rate the move itself measured: an assumed 100 MB/s made
    /// 200 MB look like 2 s, where the link (26 MB/s under TCG) froze the job for 22 s.
    @Test func theFreezeLimitUsesTheRateTheMoveMeasured() {
        var policy = Migration.Source.Policy()
        policy.maximumFinalBytes = 500 << 20
        policy.maximumFinalSeconds = 5
        var slow = Migration.Source(job: "0a0b0c-1", destination: "n2", policy: policy)
        _ = slow.accepted()
        #expect(slow.roundSent(bytes: 200 << 20, sendingSeconds: 8) == .preDump(round: 2, parent: 1))
        #expect(slow.measuredRate.map { Int($0 / 1e6) } == 26)
        guard case .giveUp(let reason) = slow.roundSent(bytes: 199 << 20, sendingSeconds: 8) else {
            Issue.record("8 s of final dump at the measured rate is above the 5 s limit")
            return
        }
        #expect(reason.contains("26 MB/s"), "\(reason)")
        // The same job on a fast link goes ahead.
        var fast = Migration.Source(job: "0a0b0c-1", destination: "n2", policy: policy)
        _ = fast.accepted()
        _ = fast.roundSent(bytes: 200 << 20, sendingSeconds: 0.2)
        #expect(fast.roundSent(bytes: 199 << 20, sendingSeconds: 0.2) == .finalDump(round: 3, parent: 2))
        // A round too small to time leaves the rate unknown: only the byte limit counts.
        var tiny = Migration.Source(job: "0a0b0c-1", destination: "n2", policy: policy)
        _ = tiny.accepted()
        _ = tiny.roundSent(bytes: 100 << 20, sendingSeconds: 0.01)
        #expect(tiny.measuredRate == nil)
    }

    @Test func anAutomaticMoveGivesUpBeforeTheFreezeWhenPrecopyDoesNotShrink() {
        var policy = Migration.Source.Policy()
        policy.maximumFinalBytes = 64 << 20
        var source = Migration.Source(job: "0a0b0c-1", destination: "n2", policy: policy)
        _ = source.accepted()
        #expect(source.roundSent(bytes: 200 << 20) == .preDump(round: 2, parent: 1))
        guard case .giveUp(let reason) = source.roundSent(bytes: 199 << 20) else {
            Issue.record("a round as large as the last must give up an automatic move")
            return
        }
        #expect(reason.contains("writes its memory faster than the link"))
        #expect(source.phase == .resumed && !source.mayBeStopped, "the job never stopped")
        #expect(source.failed(reason) == .resume(reason: reason))
        // Within the limit, or for a user's move, the final dump goes ahead.
        var unlimited = Migration.Source(job: "0a0b0c-1", destination: "n2")
        _ = unlimited.accepted()
        _ = unlimited.roundSent(bytes: 200 << 20)
        #expect(unlimited.roundSent(bytes: 199 << 20) == .finalDump(round: 3, parent: 2))
        var small = Migration.Source(job: "0a0b0c-1", destination: "n2", policy: policy)
        _ = small.accepted()
        _ = small.roundSent(bytes: 200 << 20)
        #expect(small.roundSent(bytes: 60 << 20) == .preDump(round: 3, parent: 2), "still shrinking: pre-copy goes on")
        #expect(small.roundSent(bytes: 50 << 20) == .finalDump(round: 4, parent: 3), "no longer shrinking, but within the limit")
    }

    @Test func writableMappingsAreReadFromMaps() {
        let maps = """
        55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 1234 /usr/bin/python3
        55d0c0c21000-55d0c0c42000 rw-p 00021000 08:01 1234 /usr/bin/python3
        7f0000000000-7f0010000000 rw-p 00000000 00:00 0
        7ffd1e000000-7ffd1e021000 rw-p 00000000 00:00 0                          [stack]
        ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
        garbage line
        7f00000-7e00000 rw-p 0 0:0 0
        """
        #expect(Jobs.DirtyPages.writableRanges(maps: maps) == [
            .init(start: 0x55d0c0c21000, end: 0x55d0c0c42000),
            .init(start: 0x7f0000000000, end: 0x7f0010000000),
            .init(start: 0x7ffd1e000000, end: 0x7ffd1e021000),
        ])
        let entries: [UInt64] = [1 << 55, 0, (1 << 63) | (1 << 55), 1 << 63]
        #expect(entries.withUnsafeBufferPointer { Jobs.DirtyPages.dirtyCount($0) } == 2)
    }

    /// The kernel's soft-dirty bits on this very process: what is written after a clear is
    /// what the next sample counts. Some hosts' kernels keep none (the cluster VM test checks
    /// the same on the image's kernel, through `cluster ps`).
    @Test(.enabled(if: Jobs.DirtyPages.isSupported, "this kernel keeps no soft-dirty bits (CONFIG_MEM_SOFT_DIRTY)"))
    func theSoftDirtyBitsCountWhatThisProcessWrites() throws {
        let size = 64 << 20
        let pointer = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        #expect(pointer != MAP_FAILED)
        defer { munmap(pointer, size) }
        memset(pointer, 1, size)
        let pid = getpid()
        _ = try #require(Jobs.DirtyPages.sample(pid: pid), "this kernel has no soft-dirty bits (CONFIG_MEM_SOFT_DIRTY)")
        memset(pointer, 2, 16 << 20)
        let written = try #require(Jobs.DirtyPages.sample(pid: pid))
        #expect(written >= 16 << 20, "every page written since the clear counts")
        #expect(written < 40 << 20, "pages not written since the clear do not")
    }
}
