import Migration
import Testing

/// The source side of a migration as a state machine: each row of Docs/migration.md's failure
/// table, and the trust model's broken streams and dead peers, without CRIU, sockets or VMs.
@Suite struct MigrationSourceTests {
    static func source(maxRounds: Int = 5, keepsCopy: Bool = true) -> Migration.Source {
        var policy = Migration.Source.Policy()
        policy.maxRounds = maxRounds
        policy.keepsCopyUntilDone = keepsCopy
        return Migration.Source(job: "000001-1", destination: "node2", policy: policy)
    }

    /// Drives a machine through the offer and `rounds` pre-copy rounds of 100 MiB, 50 MiB, ...
    /// (each well under the last, none small): ends in the final dump's phase.
    static func frozen(after rounds: Int = 1, keepsCopy: Bool = true) -> Migration.Source {
        var machine = source(maxRounds: rounds, keepsCopy: keepsCopy)
        var step = machine.accepted()
        var bytes: UInt64 = 100 << 20
        while case .preDump = step {
            step = machine.roundSent(bytes: bytes)
            bytes /= 2
        }
        return machine
    }

    // MARK: Pre-copy

    @Test func precopyStopsWhenARoundIsSmall() {
        var machine = Self.source()
        #expect(machine.accepted() == .preDump(round: 1, parent: nil))
        #expect(machine.roundSent(bytes: 200 << 20) == .preDump(round: 2, parent: 1))
        #expect(machine.roundSent(bytes: 1 << 20) == .finalDump(round: 3, parent: 2))
        #expect(machine.rounds == [200 << 20, 1 << 20])
        #expect(machine.mayBeStopped)
    }

    @Test func precopyStopsWhenRoundsStopShrinking() {
        var machine = Self.source()
        _ = machine.accepted()
        #expect(machine.roundSent(bytes: 100 << 20) == .preDump(round: 2, parent: 1))
        // 90 % of the last: the job dirties memory about as fast as it is copied.
        #expect(machine.roundSent(bytes: 90 << 20) == .finalDump(round: 3, parent: 2))
    }

    @Test func precopyStopsAfterMaxRounds() {
        var machine = Self.source(maxRounds: 2)
        _ = machine.accepted()
        #expect(machine.roundSent(bytes: 400 << 20) == .preDump(round: 2, parent: 1))
        #expect(machine.roundSent(bytes: 100 << 20) == .finalDump(round: 3, parent: 2))
    }

    @Test func withoutPrecopyTheFirstStepIsTheFinalDump() {
        var machine = Self.source(maxRounds: 0)
        #expect(!machine.mayBeStopped)
        #expect(machine.accepted() == .finalDump(round: 1, parent: nil))
        #expect(machine.mayBeStopped)
    }

    // MARK: Failure table

    @Test func aRefusedOfferLeavesTheJobRunningHere() {
        var machine = Self.source()
        #expect(machine.failed("node2 refused job 000001-1: CRIU cannot restore") == .resume(reason: "node2 refused job 000001-1: CRIU cannot restore"))
        #expect(machine.phase == .resumed)
        #expect(!machine.mayBeStopped, "nothing was stopped")
    }

    @Test(arguments: [1, 2, 3])
    func aFailedOrBrokenPrecopyRoundLeavesTheJobRunningHere(round: Int) {
        var machine = Self.source()
        var step = machine.accepted()
        for _ in 1..<round { step = machine.roundSent(bytes: UInt64(100 << 20) >> machine.rounds.count) }
        #expect(step == .preDump(round: round, parent: round > 1 ? round - 1 : nil))
        #expect(machine.failed("lost the connection") == .resume(reason: "lost the connection"))
        #expect(!machine.mayBeStopped)
    }

    @Test func aFailedFinalDumpOrTransferResumesTheStoppedJobWithoutAskingTheDestination() {
        // The restore request never left: the destination cannot run the job.
        var machine = Self.frozen()
        #expect(machine.mayBeStopped)
        #expect(machine.failed("criu dump failed") == .resume(reason: "criu dump failed"))
        #expect(machine.phase == .resumed)
    }

    @Test func theDestinationAnsweringFailedResumesTheJob() {
        var machine = Self.frozen()
        _ = machine.sendingRestore()
        machine.restoreFailedThere()
        #expect(machine.failed("restoring failed") == .resume(reason: "restoring failed"))
    }

    @Test func aStreamThatBreaksAfterTheRestoreRequestAsksTheDestination() {
        var machine = Self.frozen()
        #expect(machine.sendingRestore() == 2)
        #expect(machine.failed("lost the connection") == .ask(after: .zero))
        #expect(machine.phase == .asking)
    }

    @Test func theDestinationRunningTheJobDropsOurCopy() {
        var machine = Self.frozen()
        _ = machine.sendingRestore()
        _ = machine.failed("lost")
        #expect(machine.answered(.running, at: .now) == .drop)
        #expect(machine.phase == .moved)
    }

    @Test func theDestinationNotRunningTheJobResumesIt() {
        var machine = Self.frozen()
        _ = machine.sendingRestore()
        _ = machine.failed("lost")
        guard case .resume = machine.answered(.notRunning, at: .now) else {
            Issue.record("expected resume")
            return
        }
        #expect(machine.phase == .resumed)
    }

    @Test func anUnreachableDestinationThatMembershipHoldsAliveKeepsTheJobStopped() {
        var machine = Self.frozen()
        _ = machine.sendingRestore()
        _ = machine.failed("lost")
        let start = ContinuousClock.now
        // A partition: however long, the job never runs twice.
        for minutes in [0, 1, 10, 60] {
            #expect(machine.answered(.unreachable(declaredDead: false), at: start + .seconds(60 * minutes)) == .ask(after: .milliseconds(500)))
        }
        #expect(machine.phase == .asking)
    }

    @Test func aDestinationDeadForTheGraceResumesTheJob() {
        var machine = Self.frozen()
        _ = machine.sendingRestore()
        _ = machine.failed("lost")
        let start = ContinuousClock.now
        #expect(machine.answered(.unreachable(declaredDead: true), at: start) == .ask(after: .milliseconds(500)))
        #expect(machine.answered(.unreachable(declaredDead: true), at: start + .seconds(29)) == .ask(after: .milliseconds(500)))
        guard case .resume = machine.answered(.unreachable(declaredDead: true), at: start + .seconds(31)) else {
            Issue.record("expected resume after 30 s dead")
            return
        }
    }

    @Test func theGraceStartsOverWhenTheDestinationComesBackToLife() {
        var machine = Self.frozen()
        _ = machine.sendingRestore()
        _ = machine.failed("lost")
        let start = ContinuousClock.now
        _ = machine.answered(.unreachable(declaredDead: true), at: start)
        _ = machine.answered(.unreachable(declaredDead: false), at: start + .seconds(20))
        #expect(machine.answered(.unreachable(declaredDead: true), at: start + .seconds(40)) == .ask(after: .milliseconds(500)))
        #expect(machine.answered(.unreachable(declaredDead: true), at: start + .seconds(65)) == .ask(after: .milliseconds(500)))
        #expect(machine.answered(.unreachable(declaredDead: true), at: start + .seconds(71)) != .ask(after: .milliseconds(500)))
    }

    @Test func withoutAKeptCopyAFailureAfterTheDestinationConfirmedDropsOurCopy() {
        // `restored` came and our copy went: losing the stream before or after `commit`
        // changes nothing (the destination runs the job when it loses us).
        var machine = Self.frozen(keepsCopy: false)
        _ = machine.sendingRestore()
        machine.restored()
        #expect(machine.failed("lost the connection") == .drop)
        #expect(machine.phase == .moved)

        var committed = Self.frozen(keepsCopy: false)
        _ = committed.sendingRestore()
        committed.restored()
        committed.committed()
        #expect(committed.phase == .moved)
        #expect(committed.failed("no answer to commit") == .drop)
    }

    @Test func aKeptCopyStaysUntilDoneAndAFailureMeanwhileAsksWhichCopyLives() {
        // The default: the destination may restore lazily from its images, and our frozen
        // copy stays until `done`.
        var machine = Self.frozen()
        _ = machine.sendingRestore()
        machine.restored()
        #expect(machine.failed("lost the connection") == .ask(after: .zero))
        #expect(machine.answered(.running, at: .now) == .drop)

        var filling = Self.frozen()
        _ = filling.sendingRestore()
        filling.restored()
        filling.committed()
        #expect(filling.phase == .pulling)
        #expect(filling.failed("no answer to commit") == .ask(after: .zero))
        #expect(filling.answered(.notRunning, at: .now) == .resume(reason: "node2 did not restore job 000001-1"))

        var done = Self.frozen()
        _ = done.sendingRestore()
        done.restored()
        done.committed()
        done.pagesDelivered()
        #expect(done.phase == .moved && done.isFinished)

        var failed = Self.frozen()
        _ = failed.sendingRestore()
        failed.restored()
        failed.committed()
        failed.pullFailedThere()
        #expect(failed.failed("its memory could not be filled in") == .resume(reason: "its memory could not be filled in"))
    }

    @Test func aFailureWhileAskingAsksAgain() {
        var machine = Self.frozen()
        _ = machine.sendingRestore()
        _ = machine.failed("lost")
        #expect(machine.failed("again") == .ask(after: .milliseconds(500)))
    }

    // MARK: Dump retries

    @Test func aDumpIsRetriedOnlyWhenAProcessVanishedAndOnlyFourTimes() {
        let machine = Self.source()
        let vanished = Migration.CRIU.Failure(
            step: "dump", exit: "exit status 1", log: "(00.01) Error (compel/src/lib/infect.c:123): Unable to seize 42: No such process\n")
        #expect(vanished.kind == .processVanished)
        #expect(vanished.description == "criu dump failed (exit status 1): (00.01) Error (compel/src/lib/infect.c:123): Unable to seize 42: No such process")
        #expect(machine.retriesDump(after: vanished, attempt: 1))
        #expect(machine.retriesDump(after: vanished, attempt: 3))
        #expect(!machine.retriesDump(after: vanished, attempt: 4))
        let other = Migration.CRIU.Failure(step: "dump", exit: "exit status 1", log: "Error: Can't dump a TCP socket\n")
        #expect(other.kind == .other)
        #expect(!machine.retriesDump(after: other, attempt: 1))
    }

    @Test func aFailureWithoutErrorLinesShowsTheLogsTail() {
        let failure = Migration.CRIU.Failure(step: "restore", exit: "signal 9", log: String(repeating: "x", count: 1000))
        #expect(failure.excerpt.count == 400)
    }

    // MARK: Post-copy

    static func postcopy() -> Migration.Source {
        var policy = Migration.Source.Policy()
        policy.postcopy = true
        return Migration.Source(job: "000001-1", destination: "node2", policy: policy)
    }

    /// Through the lazy dump, the restore and `commit`: the destination runs the job and pulls.
    static func pulling() -> Migration.Source {
        var machine = postcopy()
        #expect(machine.accepted() == .finalDump(round: 1, parent: nil))
        #expect(machine.sendingRestore() == 1)
        machine.restored()
        machine.committed()
        #expect(machine.phase == .pulling)
        return machine
    }

    @Test func postcopyGoesStraightToTheFinalDumpAndEndsWhenEveryPageArrived() {
        var machine = Self.pulling()
        #expect(!machine.isFinished)
        machine.pagesDelivered()
        #expect(machine.phase == .moved)
        #expect(machine.rounds.isEmpty)
    }

    @Test func aPullThatFailedThereResumesTheFrozenCopy() {
        var machine = Self.pulling()
        machine.pullFailedThere()
        #expect(machine.failed("no pages") == .resume(reason: "no pages"))
    }

    @Test func aBrokenStreamWhilePullingAsksWhichCopyLives() {
        // The destination kills its copy when it loses us before the last page; only it knows
        // whether that happened, or whether the last page arrived and `done` was lost.
        var lost = Self.pulling()
        #expect(lost.failed("stream broke") == .ask(after: .zero))
        #expect(lost.answered(.notRunning, at: .now) == .resume(reason: "node2 did not restore job 000001-1"))
        var arrived = Self.pulling()
        _ = arrived.failed("stream broke")
        #expect(arrived.answered(.running, at: .now) == .drop)
        // Alive but silent (still pulling, or partitioned): the frozen copy waits.
        var silent = Self.pulling()
        _ = silent.failed("stream broke")
        #expect(silent.answered(.unreachable(declaredDead: false), at: .now) == .ask(after: .milliseconds(500)))
    }

    @Test func aBrokenStreamAfterRestoredAsksInsteadOfDroppingInPostcopy() {
        // Pre-copy drops its copy on `restored`; post-copy's frozen copy still holds every page.
        var machine = Self.postcopy()
        _ = machine.accepted()
        _ = machine.sendingRestore()
        machine.restored()
        #expect(machine.failed("stream broke") == .ask(after: .zero))
    }
}
