import Foundation
import Jobs
import Migration
import Testing

/// The destination side of a migration as a state machine: what it takes from the network,
/// in which order, and what becomes of the job when the source is lost at each step.
@Suite struct MigrationDestinationTests {
    static let id = "0a0b0c-7"

    static func record(id: String = id, uid: UInt32 = 1000, gid: UInt32 = 1000) -> Jobs.Record {
        Jobs.Record(
            id: id, arguments: ["sleep", "100"], workingDirectory: "/home/ada", environment: [],
            uid: uid, gid: gid, owner: "ada", homeNode: "node1", stay: false, startedAt: 0)
    }

    static func data(_ record: Jobs.Record) -> Data { (try? JSONEncoder().encode(record)) ?? Data() }

    static let node = Migration.Destination.Node(hostname: "node2", trust: Jobs.Trust(), availableBytes: 1 << 30)

    static func consider(
        id: String = id, record: Data = data(record()), memoryKiB: UInt64 = 1024, node: Migration.Destination.Node = node,
        localGroups: [UInt32]? = [1000], runsHere: Bool = false
    ) -> Result<Migration.Destination, Migration.Destination.Refusal> {
        Migration.Destination.consider(job: id, record: record, memoryKiB: memoryKiB, node: node, localGroups: { _ in localGroups }, runsHere: runsHere)
    }

    static func accepted() throws -> Migration.Destination {
        try consider().get()
    }

    static func refusal(_ result: Result<Migration.Destination, Migration.Destination.Refusal>) -> Migration.Destination.Refusal? {
        if case .failure(let refusal) = result { return refusal }
        return nil
    }

    // MARK: The offer

    @Test func anOfferThatPassesEveryCheckIsAccepted() throws {
        let machine = try Self.accepted()
        #expect(machine.record == Self.record())
        #expect(machine.phase == .receiving)
        #expect(!machine.holdsJob)
    }

    @Test(arguments: ["../../etc", "0a0b0c-7\0", "", "0a0b0c-7/../x", "ZZZZZZ-1"])
    func anOfferWithAMalformedJobIDIsRefused(id: String) {
        #expect(Self.refusal(Self.consider(id: id))?.description.contains("is not a job id") == true)
    }

    @Test func anOfferWithAnUnreadableRecordIsRefused() {
        #expect(Self.refusal(Self.consider(record: Data("{".utf8)))?.description == "the job's record is unreadable")
    }

    @Test func anOfferWhoseRecordNamesAnotherJobIsRefused() {
        let refusal = Self.refusal(Self.consider(record: Self.data(Self.record(id: "0a0b0c-8"))))
        #expect(refusal?.description == "the record is for job \"0a0b0c-8\", not 0a0b0c-7")
    }

    @Test func anOfferOfARootJobIsRefusedByTheTrustModel() {
        let refusal = Self.refusal(Self.consider(record: Self.data(Self.record(uid: 0, gid: 0)), localGroups: [0]))
        #expect(refusal?.byTrust == true)
        #expect(refusal?.description.contains("not as root") == true)
    }

    @Test func anOfferWithAGroupTheUserDoesNotHaveIsRefused() {
        // gid 42 (shadow) is below the minimum and not one of uid 1000's groups here.
        let refusal = Self.refusal(Self.consider(record: Self.data(Self.record(gid: 42)), localGroups: [1000]))
        #expect(refusal?.byTrust == true)
    }

    @Test func aDuplicateOfAJobThatRunsHereIsRefused() {
        #expect(Self.refusal(Self.consider(runsHere: true))?.description == "job 0a0b0c-7 already runs on node2")
    }

    @Test func anOfferLargerThanTheMemoryAvailableIsRefused() {
        let refusal = Self.refusal(Self.consider(memoryKiB: 2 << 20))
        #expect(refusal?.description == "the job uses 2048 MiB and node2 has 1024 MiB available")
    }

    // MARK: Receiving

    @Test func filesGoWhereTheIntakePutsThem() throws {
        typealias Incoming = Migration.Destination.Incoming
        var machine = try Self.accepted()
        #expect(try machine.received(.files(round: 1, entries: [.init(path: "inventory.img", size: 40, mode: 0o600), .init(path: "pages-1.img", size: 4096, mode: 0o600)]))
            == .write([Incoming(.image(round: 1, name: "inventory.img"), size: 40, mode: 0o600), Incoming(.image(round: 1, name: "pages-1.img"), size: 4096, mode: 0o600)]))
        #expect(try machine.received(.files(round: 2, entries: [.init(path: "parent", size: 0, mode: 0, link: "../1")]))
            == .write([Incoming(.parentLink(round: 2, target: "../1"), size: 0, mode: 0)]))
        #expect(try machine.received(.files(round: 0, entries: [.init(path: "stdout", size: 10, mode: 0o644)]))
            == .write([Incoming(.jobFile("stdout"), size: 10, mode: 0o644)]))
        #expect(try machine.received(.files(round: -1, entries: [.init(path: "/home/ada/data.txt", size: 10, mode: 0o644)]))
            == .write([Incoming(.openFile("/home/ada/data.txt"), size: 10, mode: 0o644)]))
        #expect(try machine.received(.files(round: 3, entries: [])) == .write([]))
    }

    @Test func oneRefusedFileRefusesTheWholeMessage() throws {
        var machine = try Self.accepted()
        #expect(throws: Migration.Destination.Violation.self) {
            try machine.received(.files(round: 1, entries: [.init(path: "core-1.img", size: 1, mode: 0o600), .init(path: ".hidden", size: 1, mode: 0o600)]))
        }
        #expect(!machine.holdsJob)
        #expect(machine.sourceLost() == .nothing)
    }

    @Test func aLinkThatAnnouncesBytesIsRefused() throws {
        var machine = try Self.accepted()
        #expect(throws: Migration.Destination.Violation.self) {
            try machine.received(.files(round: 2, entries: [.init(path: "parent", size: 10, mode: 0, link: "../1")]))
        }
    }

    @Test func aRefusedFileEndsTheExchangeAndNothingIsKept() throws {
        var machine = try Self.accepted()
        #expect(throws: Migration.Destination.Violation.self) {
            try machine.received(.files(round: 1, entries: [.init(path: "../../etc/passwd", size: 1, mode: 0o600)]))
        }
        #expect(!machine.holdsJob)
        #expect(machine.sourceLost() == .nothing)
        #expect(machine.phase == .discarded)
    }

    @Test func filesBeyondTheMemoryBudgetAreRefused() throws {
        var machine = try Self.accepted()
        #expect(throws: Migration.Destination.Violation.self) {
            try machine.received(.files(round: 1, entries: [.init(path: "pages-1.img", size: 2 << 30, mode: 0o600)]))
        }
    }

    @Test func restoreRunsTheOffersRecordOnly() throws {
        var machine = try Self.accepted()
        var moved = Self.record()
        moved.currentNode = "node2"
        #expect(try machine.received(.restore(round: 3, record: Self.data(moved))) == .restore(round: 3, record: moved, lazy: false))
        #expect(machine.phase == .restoring(round: 3))

        var other = try Self.accepted()
        #expect(throws: Migration.Destination.Violation.self) {
            try other.received(.restore(round: 3, record: Self.data(Self.record(uid: 1001))))
        }
        var outOfRange = try Self.accepted()
        #expect(throws: Migration.Destination.Violation.self) {
            try outOfRange.received(.restore(round: 99, record: Self.data(Self.record())))
        }
    }

    @Test func messagesOutOfTurnAreViolations() throws {
        // commit before anything was restored, an offer or an answer in the middle, a query.
        for message: Migration.Message in [.commit, .offer(job: Self.id, record: Data(), memoryKiB: 1, cpuinfo: Data()), .accept, .done, .query(job: Self.id), .restored(pid: 1)] {
            var machine = try Self.accepted()
            #expect(throws: Migration.Destination.Violation.self) { try machine.received(message) }
            #expect(machine.sourceLost() == .nothing)
        }
    }

    // MARK: Restore, commit, and losing the source

    @Test func aRestoredJobRunsOnCommit() throws {
        var machine = try Self.accepted()
        _ = try machine.received(.restore(round: 1, record: Self.data(Self.record())))
        machine.restoreSucceeded(pid: 4242)
        #expect(machine.holdsJob)
        #expect(try machine.received(.commit) == .run(pid: 4242))
        #expect(machine.isFinished)
        #expect(machine.phase == .running(pid: 4242))
    }

    @Test func aFailedRestoreKeepsNothing() throws {
        var machine = try Self.accepted()
        _ = try machine.received(.restore(round: 1, record: Self.data(Self.record())))
        machine.restoreFailed()
        #expect(machine.isFinished)
        #expect(!machine.holdsJob)
        #expect(machine.sourceLost() == .nothing)
    }

    @Test func anAbortDiscardsWhatWasRestored() throws {
        var machine = try Self.accepted()
        #expect(try machine.received(.abort) == .discard(pid: nil))
        var restored = try Self.accepted()
        _ = try restored.received(.restore(round: 1, record: Self.data(Self.record())))
        restored.restoreSucceeded(pid: 7)
        #expect(try restored.received(.abort) == .discard(pid: 7))
        #expect(restored.phase == .discarded)
    }

    @Test func losingTheSourceBeforeRestoringKeepsNothing() throws {
        var receiving = try Self.accepted()
        _ = try receiving.received(.files(round: 1, entries: [.init(path: "pages-1.img", size: 1, mode: 0o600)]))
        #expect(receiving.sourceLost() == .nothing)
        var restoring = try Self.accepted()
        _ = try restoring.received(.restore(round: 1, record: Self.data(Self.record())))
        #expect(restoring.sourceLost() == .nothing)
    }

    @Test func losingTheSourceAfterRestoredRunsTheJob() throws {
        // The source saw `restored` and dropped its copy, or will ask and learn that it runs here.
        var machine = try Self.accepted()
        _ = try machine.received(.restore(round: 1, record: Self.data(Self.record())))
        machine.restoreSucceeded(pid: 99)
        #expect(machine.sourceLost() == .run(pid: 99))
        #expect(machine.phase == .running(pid: 99))
    }

    @Test func aDuplicateRestoreAfterRestoredIsAViolationAndTheJobStillRunsOnce() throws {
        var machine = try Self.accepted()
        _ = try machine.received(.restore(round: 1, record: Self.data(Self.record())))
        machine.restoreSucceeded(pid: 5)
        #expect(throws: Migration.Destination.Violation.self) {
            try machine.received(.restore(round: 1, record: Self.data(Self.record())))
        }
        // The job is ours: the agent must not tell the source it failed, and runs it once.
        #expect(machine.holdsJob)
        #expect(machine.sourceLost() == .run(pid: 5))
    }

    @Test func filesAfterTheRestoreRequestAreViolations() throws {
        var machine = try Self.accepted()
        _ = try machine.received(.restore(round: 1, record: Self.data(Self.record())))
        machine.restoreSucceeded(pid: 5)
        #expect(throws: Migration.Destination.Violation.self) {
            try machine.received(.files(round: 0, entries: [.init(path: "stdout", size: 1, mode: 0o600)]))
        }
    }

    // MARK: Lazy restore from the images here

    static func fillingFromImages(pid: Int32 = 55) throws -> Migration.Destination {
        var machine = try accepted()
        #expect(try machine.received(.restore(round: 2, record: data(record()))) == .restore(round: 2, record: record(), lazy: false))
        machine.restoresFromImages()
        #expect(machine.fromImages && !machine.lazy)
        machine.restoreSucceeded(pid: pid)
        return machine
    }

    @Test func aJobRestoredFromTheImagesHereRunsOnCommitAndIsDoneWhenFilledIn() throws {
        var machine = try Self.fillingFromImages()
        #expect(try machine.received(.commit) == .run(pid: 55))
        #expect(machine.phase == .pulling(pid: 55) && machine.holdsJob && !machine.isFinished)
        machine.pagesArrived()
        #expect(machine.phase == .running(pid: 55) && machine.isFinished)
    }

    @Test func losingTheSourceWhileFillingInFromTheImagesHereKeepsTheJob() throws {
        // Every page is here: unlike post-copy, the job runs on and goes on filling in.
        var filling = try Self.fillingFromImages()
        _ = try filling.received(.commit)
        #expect(filling.sourceLost() == .run(pid: 55))
        #expect(filling.phase == .pulling(pid: 55))
        filling.pagesArrived()
        #expect(filling.phase == .running(pid: 55))

        var restored = try Self.fillingFromImages()
        #expect(restored.sourceLost() == .run(pid: 55))
        #expect(restored.phase == .pulling(pid: 55), "continued, and filling in")
        #expect(restored.pullFailed() == 55, "a fill that fails then kills it")
        #expect(restored.phase == .discarded)
    }

    // MARK: Post-copy

    static func pulling(pid: Int32 = 77) throws -> Migration.Destination {
        var machine = try accepted()
        #expect(try machine.received(.restoreLazily(round: 1, record: data(record()))) == .restore(round: 1, record: record(), lazy: true))
        #expect(machine.lazy)
        machine.restoreSucceeded(pid: pid)
        #expect(try machine.received(.commit) == .run(pid: pid))
        return machine
    }

    @Test func aPostcopyJobRunsOnCommitAndIsDoneWhenEveryPageArrived() throws {
        var machine = try Self.pulling()
        #expect(machine.phase == .pulling(pid: 77))
        #expect(machine.holdsJob)
        #expect(!machine.isFinished)
        machine.pagesArrived()
        #expect(machine.phase == .running(pid: 77))
        #expect(machine.isFinished)
        // Every page here: losing the source changes nothing.
        #expect(machine.sourceLost() == .run(pid: 77))
    }

    @Test func losingTheSourceWhilePullingKillsTheCopyHere() throws {
        var machine = try Self.pulling()
        #expect(machine.sourceLost() == .kill(pid: 77))
        #expect(machine.phase == .discarded)
        #expect(!machine.holdsJob)
    }

    @Test func losingTheSourceBeforeCommitKillsALazilyRestoredCopy() throws {
        var machine = try Self.accepted()
        _ = try machine.received(.restoreLazily(round: 1, record: Self.data(Self.record())))
        machine.restoreSucceeded(pid: 12)
        // A pre-copy restore would run (the source may have dropped its copy); this one lacks
        // its memory.
        #expect(machine.sourceLost() == .kill(pid: 12))
    }

    @Test func aFailedPullKillsTheCopyHere() throws {
        var machine = try Self.pulling()
        #expect(machine.pullFailed() == 77)
        #expect(machine.phase == .discarded)
        #expect(machine.isFinished)
    }

    @Test func aLazyRestoreIsCheckedLikeAnyOther() throws {
        var machine = try Self.accepted()
        #expect(throws: Migration.Destination.Violation.self) {
            try machine.received(.restoreLazily(round: 1, record: Self.data(Self.record(uid: 1001))))
        }
        var early = try Self.accepted()
        #expect(throws: Migration.Destination.Violation.self) { try early.received(.commit) }
    }

    // MARK: A pre-dump round's page server

    @Test func aPageServerRoundIsServedWithTheBudgetAndChargedWhenItEnds() throws {
        var machine = try Self.accepted()
        let budget = (1 << 30) - (64 << 20)
        #expect(try machine.received(.pageServer(round: 1, parent: nil)) == .servePages(round: 1, parent: nil, budget: UInt64(budget)))
        #expect(machine.servingRound == 1)
        try machine.pagesServed(round: 1, bytes: 100 << 20)
        #expect(machine.servingRound == nil)
        _ = try machine.received(.files(round: 1, entries: [.init(path: "pstree.img", size: 10, mode: 0o600)]))
        #expect(try machine.received(.pageServer(round: 2, parent: 1)) == .servePages(round: 2, parent: 1, budget: UInt64(budget - (100 << 20) - 10)))
    }

    @Test func aPageServerRoundMayBeAskedForAgainUntilItsFilesCame() throws {
        var machine = try Self.accepted()
        _ = try machine.received(.pageServer(round: 1, parent: nil))
        try machine.pagesServed(round: 1, bytes: 0)
        _ = try machine.received(.pageServer(round: 1, parent: nil))
        try machine.pagesServed(round: 1, bytes: 4096)
        _ = try machine.received(.files(round: 1, entries: [.init(path: "pstree.img", size: 10, mode: 0o600)]))
        #expect(throws: Migration.Destination.Violation.self) { try machine.received(.pageServer(round: 1, parent: nil)) }
    }

    @Test(arguments: [(0, nil), (33, nil), (2, 2), (2, 3), (3, 0)] as [(Int, Int?)])
    func aPageServerForARoundOutOfRangeOrOnTopOfALaterOneIsAViolation(round: Int, parent: Int?) throws {
        var machine = try Self.accepted()
        #expect(throws: Migration.Destination.Violation.self) { try machine.received(.pageServer(round: round, parent: parent)) }
        #expect(machine.sourceLost() == .nothing)
    }

    @Test func nothingButTheReportFollowsAPageServerAndItsPagesCountAgainstTheBudget() throws {
        var machine = try Self.accepted()
        _ = try machine.received(.pageServer(round: 1, parent: nil))
        #expect(throws: Migration.Destination.Violation.self) { try machine.received(.pageServer(round: 2, parent: 1)) }
        var restoring = try Self.accepted()
        _ = try restoring.received(.pageServer(round: 1, parent: nil))
        #expect(throws: Migration.Destination.Violation.self) { try restoring.received(.restore(round: 1, record: Self.data(Self.record()))) }
        var over = try Self.accepted()
        _ = try over.received(.pageServer(round: 1, parent: nil))
        #expect(throws: Migration.Destination.Violation.self) { try over.pagesServed(round: 1, bytes: 2 << 30) }
    }
}
