import Glibc
import Jobs
import NodeError
import Testing

/// One job's state on a node (``Jobs/Job``): its end, kills and migrations, without processes.
@Suite struct JobStateTests {
    static func job(_ phase: Jobs.Job.Phase = .running(initPID: 4242), watch: Jobs.Job.Watch = .reaped) -> Jobs.Job {
        Jobs.Job(
            record: Jobs.Record(
                id: "0a0b0c-1", arguments: ["sleep", "9"], workingDirectory: "/", environment: [], uid: 1000, gid: 1000,
                owner: "ada", homeNode: "n1", stay: false, startedAt: 1),
            phase: phase, watch: watch)
    }

    @Test func anExitStatusEndsTheJob() {
        var job = Self.job()
        let result1 = job.ended(.exited(3), cpuSeconds: 1.5, at: 100)
        #expect(result1)
        #expect(job.record.state == .exited(3) && job.record.endedAt == 100 && job.record.cpuSecondsAtEnd == 1.5)
        #expect(job.phase == .ended && job.initPID == nil)
        let result2 = job.ended(.exited(0), cpuSeconds: 0, at: 200)
        #expect(!result2, "a second report changes nothing")
        #expect(job.record.state == .exited(3))
    }

    @Test func aKillThisAgentSentIsRecordedWhateverUnshareReports() {
        var job = Self.job()
        let result3 = job.kill(by: 1000)
        #expect(result3 == .success(.now))
        // util-linux 2.38's unshare exits 1 for a killed init.
        let result4 = job.ended(.exited(1), cpuSeconds: nil, at: 5)
        #expect(result4)
        #expect(job.record.state == .killed(SIGKILL))
    }

    @Test func aPolledJobsEndHasNoStatus() {
        var job = Self.job(watch: .polled)
        let result5 = job.ended(nil, cpuSeconds: nil, at: 5)
        #expect(result5)
        #expect(job.record.state == .failed("ended while adopted by a restarted agent; exit status unknown"))
        var killed = Self.job(watch: .polled)
        _ = killed.kill(by: 0)
        _ = killed.ended(nil, cpuSeconds: nil, at: 5)
        #expect(killed.record.state == .killed(SIGKILL))
    }

    @Test func onlyTheOwnerOrRootKills() {
        var job = Self.job()
        let result6 = job.kill(by: 1001)
        #expect(result6 == .failure(NodeError(.permission, "job 0a0b0c-1 belongs to ada; only they or root can kill it")))
        #expect(!job.killRequested)
    }

    @Test func aKillWhileCopyingOrFreezingIsImmediateAndStopsTheMove() {
        for freezing in [false, true] {
            var job = Self.job()
            _ = job.beginMigration()
            if freezing { #expect(job.beginFreeze() == nil) }
            #expect(job.moveStop == nil)
            #expect(job.kill(by: 0) == .success(.now))
            #expect(job.killRequested)
            #expect(job.moveStop == NodeError(.conflict, "job 0a0b0c-1 was killed during its move"))
            #expect(job.beginFreeze() != nil && job.beginHandOver() != nil, "nothing is handed over after a kill")
            // The init dies; the move resumes what is left (nothing) and the end is a kill.
            _ = job.ended(.exited(1), cpuSeconds: nil, at: 7)
            #expect(job.record.state == .killed(SIGKILL))
            #expect(job.endMigration() == nil)
        }
    }

    @Test func aKillDuringTheHandOverWaitsForItsOutcome() {
        var job = Self.job()
        _ = job.beginMigration()
        #expect(job.beginFreeze() == nil && job.beginHandOver() == nil)
        #expect(job.kill(by: 1000) == .success(.afterHandOver))
        #expect(!job.killRequested, "no signal yet: the job may run at the destination")
        #expect(job.moveStop == nil, "the hand-over goes on")
        // The move failed: the kill is carried out here.
        var failed = job
        #expect(failed.endMigration() == 1000)
        // The move succeeded: the source forwards it (the Supervisor returns it).
        var moved = job
        #expect(moved.move?.killAfterwards == 1000)
        _ = moved.moved(to: nil, at: 9)
        #expect(moved.move == nil && moved.phase == .moved)
    }

    @Test func aMoveIsCancelledOnlyBeforeItsFreezeAndOnlyByItsOwner() {
        var job = Self.job()
        #expect(job.cancelMove(by: 0) == NodeError(.conflict, "job 0a0b0c-1 is not moving"))
        _ = job.beginMigration()
        #expect(job.cancelMove(by: 1001) == NodeError(.permission, "job 0a0b0c-1 belongs to ada; only they or root can cancel its move"))
        #expect(job.cancelMove(by: 1000) == nil)
        #expect(job.moveStop == NodeError(.conflict, "the move of job 0a0b0c-1 was cancelled (`cluster migrate --cancel`)"))
        #expect(job.beginFreeze() != nil, "a cancelled move never freezes the job")
        #expect(job.endMigration() == nil)
        #expect(job.phase == .running(initPID: 4242) && job.move == nil, "the job runs on, not moving")
        var frozen = Self.job()
        _ = frozen.beginMigration()
        _ = frozen.beginFreeze()
        #expect(frozen.cancelMove(by: 1000) == NodeError(.conflict, "job 0a0b0c-1 is already frozen for its hand-over; it runs at the destination in a moment, or here again if that fails"))
    }

    @Test func aJobMigratesOnceAtATimeAndRunsOnWhenTheMoveFails() {
        var job = Self.job()
        let result9 = job.beginMigration()
        #expect(result9 == nil)
        #expect(job.phase == .migrating(initPID: 4242) && job.isHere)
        let result10 = job.beginMigration()
        #expect(result10 == NodeError(.conflict, "job 0a0b0c-1 is already migrating"))
        job.endMigration()
        #expect(job.phase == .running(initPID: 4242))
        var lost = Self.job(.running(initPID: nil))
        let result11 = lost.beginMigration()
        #expect(result11 == NodeError(.conflict, "job 0a0b0c-1 is not running here (running)"))
    }

    @Test func aMovedJobKeepsTheDestinationsRecordAndIgnoresItsLocalEnd() {
        var job = Self.job()
        _ = job.beginMigration()
        var there = job.record
        there.currentNode = "n2"
        there.migrations = [.init(from: "n1", to: "n2", at: 9)]
        let result12 = job.moved(to: there, at: 10)
        #expect(result12 == 4242, "the stopped copy here is the one to kill")
        #expect(job.record.state == .moved("n2") && job.record.currentNode == "n2" && job.record.migrations.count == 1)
        // Killing the copy ends `unshare` here: the job did not end, it moved.
        let result13 = job.ended(.signaled(SIGKILL), cpuSeconds: 1, at: 11)
        #expect(!result13)
        #expect(job.record.state == .moved("n2") && job.phase == .moved)
    }

    @Test func aJobThatEndsWhileMigratingHasEnded() {
        var job = Self.job()
        _ = job.beginMigration()
        let result14 = job.ended(.exited(0), cpuSeconds: 1, at: 3)
        #expect(result14)
        job.endMigration()
        #expect(job.phase == .ended && job.record.state == .exited(0))
    }
}
