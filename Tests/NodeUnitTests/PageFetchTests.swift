import Migration
import Testing

/// Post-copy's fetch of a job's pages ahead of the daemon (``Migration/PageFetch``): what is
/// asked for, in which order, and which answers from the source are taken.
@Suite struct PageFetchTests {
    typealias Images = Migration.Images
    typealias PageRequest = Images.PageRequest
    static let page = Images.pageSize

    /// Image 7: lazy 10 pages at 0x10000, a present page, lazy 3 pages at 0x40000; image 9:
    /// lazy 2 pages at 0x8000.
    static func fetch() throws -> Migration.PageFetch {
        try Migration.PageFetch(pagemaps: [
            7: Images.Pagemap(pagesID: 1, entries: [
                .init(vaddr: 0x10000, pages: 10, flags: Images.lazy),
                .init(vaddr: 0x30000, pages: 1, flags: Images.present),
                .init(vaddr: 0x40000, pages: 3, flags: Images.lazy),
            ]),
            9: Images.Pagemap(pagesID: 2, entries: [.init(vaddr: 0x8000, pages: 2, flags: Images.lazy)]),
        ])
    }

    static func answer(_ request: PageRequest, pages: UInt64? = nil) -> PageRequest {
        // As decoded from criu's bytes: the command without its flags.
        PageRequest(request.answer(pages: pages ?? request.pages, size: 24))!
    }

    @Test func asksForEveryLazyRangeInOrderWithinEachRangeAndTheWindow() throws {
        var fetch = try Self.fetch()
        #expect(fetch.totalPages == 15)
        var asked: [PageRequest] = []
        while let request = fetch.nextRequest(maximumPages: 4) { asked.append(request) }
        #expect(asked.map { [$0.image, $0.vaddr, $0.pages] } == [
            [7, 0x10000, 4], [7, 0x14000, 4], [7, 0x18000, 2], [7, 0x40000, 3], [9, 0x8000, 2],
        ], "no request crosses a range's end (criu serves one iovec per answer)")
        #expect(fetch.pagesInFlight == 15 && fetch.nextRequest(maximumPages: 4) == nil)
        #expect(fetch.nextRequest(maximumPages: 0) == nil)
        for request in asked {
            #expect(try fetch.answered(Self.answer(request)) == request.pages)
            fetch.arrived(pages: request.pages)
        }
        #expect(fetch.isComplete && fetch.pagesInFlight == 0 && fetch.storedPages == 15)
    }

    @Test func theDaemonsRequestIsServedOnceItsPagesHaveArrivedAndClampedToItsRange() throws {
        var fetch = try Self.fetch()
        let wanted = PageRequest(command: PageRequest.get, pages: 8, vaddr: 0x40000 + Self.page, image: 7)
        let place = try #require(fetch.place(wanted))
        #expect(place.page == 1 && place.pages == 2, "clamped at the range's end, as criu clamps at its iovec's")
        #expect(fetch.kept(place) == nil)
        // A fault goes before the rest.
        _ = fetch.nextRequest(maximumPages: 4)  // 0x10000, 4 pages, in flight already
        fetch.hurry(place)
        let next = fetch.nextRequest(maximumPages: 64)
        let urgent = try #require(next)
        #expect(urgent.vaddr == 0x40000 + Self.page && urgent.pages == 2 && urgent.image == 7)
        // Answers come in order: the first request's, then the urgent one's.
        fetch.arrived(pages: try fetch.answered(Self.answer(PageRequest(command: PageRequest.get, pages: 4, vaddr: 0x10000, image: 7))))
        #expect(fetch.kept(place) == nil)
        fetch.arrived(pages: try fetch.answered(Self.answer(urgent)))
        let runs = try #require(fetch.kept(place))
        #expect(runs.map { [UInt64($0.storePage), $0.pages] } == [[4, 2]], "kept after the first answer's four pages")
        // The rest in order, skipping what came already.
        var rest: [PageRequest] = []
        while let request = fetch.nextRequest(maximumPages: 64) { rest.append(request) }
        #expect(rest.map { [$0.vaddr, $0.pages] } == [[0x14000, 6], [0x40000, 1], [0x8000, 2]])
    }

    @Test func requestsOutsideTheLazyRangesHaveNoPlace() throws {
        let fetch = try Self.fetch()
        for request in [
            PageRequest(command: PageRequest.get, pages: 1, vaddr: 0x30000, image: 7),  // present, not lazy
            PageRequest(command: PageRequest.get, pages: 1, vaddr: 0x1a000, image: 7),  // just past a range
            PageRequest(command: PageRequest.get, pages: 1, vaddr: 0xf000, image: 7),  // just before
            PageRequest(command: PageRequest.get, pages: 1, vaddr: 0x10000, image: 8),  // no such image
            PageRequest(command: PageRequest.get, pages: 0, vaddr: 0x10000, image: 7),
            PageRequest(command: PageRequest.get, pages: 1, vaddr: 0x10001, image: 7),
        ] {
            #expect(fetch.place(request) == nil, "\(request)")
        }
        #expect(fetch.place(PageRequest(command: PageRequest.get, pages: 1, vaddr: 0x19000, image: 7))?.pages == 1)
    }

    @Test func answersThatAreNotWhatWasAskedForAreRefused() throws {
        var fetch = try Self.fetch()
        #expect(throws: Images.Malformed.self) { try fetch.answered(PageRequest(command: 6, pages: 1, vaddr: 0x10000, image: 7)) }
        let first = fetch.nextRequest(maximumPages: 4)
        let request = try #require(first)
        for bad in [
            PageRequest(command: 6, pages: 5, vaddr: 0x10000, image: 7),  // more than asked
            PageRequest(command: 6, pages: 0, vaddr: 0x10000, image: 7),
            PageRequest(command: 6, pages: 4, vaddr: 0x11000, image: 7),  // elsewhere
            PageRequest(command: 6, pages: 4, vaddr: 0x10000, image: 9),
            PageRequest(command: PageRequest.get, pages: 4, vaddr: 0x10000, image: 7),  // not pages
        ] {
            #expect(throws: Images.Malformed.self, "\(bad)") { try fetch.answered(bad) }
        }
        // A short answer: the pages it lacks are asked for again, first.
        fetch.arrived(pages: try fetch.answered(Self.answer(request, pages: 1)))
        let next = fetch.nextRequest(maximumPages: 64)
        let again = try #require(next)
        #expect(again.vaddr == 0x11000 && again.pages == 3)
        #expect(fetch.arrivedPages == 1 && !fetch.isComplete)
    }

    @Test func overlappingOrOversizedPageMapsAreRefused() {
        #expect(throws: Images.Malformed.self) {
            try Migration.PageFetch(pagemaps: [1: Images.Pagemap(pagesID: 1, entries: [
                .init(vaddr: 0x10000, pages: 4, flags: Images.lazy), .init(vaddr: 0x12000, pages: 4, flags: Images.lazy),
            ])])
        }
        #expect(throws: Images.Malformed.self) {
            try Migration.PageFetch(pagemaps: [1: Images.Pagemap(pagesID: 1, entries: [.init(vaddr: 0x10000, pages: 1 << 40, flags: Images.lazy)])])
        }
        #expect(throws: Images.Malformed.self) {
            try Migration.PageFetch(pagemaps: [1: Images.Pagemap(pagesID: 1, entries: [.init(vaddr: 0x10000, pages: 100, flags: Images.lazy)])], limit: 99)
        }
        #expect(throws: Images.Malformed.self) {
            try Migration.PageFetch(pagemaps: [1: Images.Pagemap(pagesID: 1, entries: [.init(vaddr: UInt64.max - 0xfff, pages: 2, flags: Images.lazy)])])
        }
    }
}
