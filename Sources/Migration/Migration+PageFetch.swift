extension Migration {
    /// Post-copy's pages on the destination, fetched ahead of the job (Docs/migration.md,
    /// "Post-copy"): the agent asks the source's `criu dump --lazy-pages` for every lazy range
    /// in order, a few requests in flight, and answers the lazy-pages daemon here from what has
    /// arrived. A range the daemon needs before its turn (a fault) is asked for next. So the
    /// memory comes at the stream's rate whatever the job does, where the daemon alone asks for
    /// one range per round trip and starts small again at every fault.
    ///
    /// Pure: which ranges to ask for, what an answer must be, where each arrived page is kept.
    /// The agent moves the bytes (`Agent.Migrator.PulledPages`). Answers come from another node
    /// and are checked against the oldest request in flight (criu answers in order).
    public struct PageFetch: Sendable {
        public typealias PageRequest = Images.PageRequest

        /// A page's state: not asked for yet, asked for, or (zero or more) where it is kept, in
        /// pages from the start of the store.
        static let notAsked: Int32 = -1
        static let asked: Int32 = -2

        /// One lazy range of a process's page map: criu serves it as one piece (one iovec of
        /// its page pipes), so no request crosses its end.
        struct Area: Sendable {
            let image: UInt64
            let vaddr: UInt64
            let pages: UInt64
            var kept: [Int32]
            var end: UInt64 { vaddr + pages * Images.pageSize }
        }

        private var areas: [Area] = []
        /// Each image's areas (indices into `areas`, by address).
        private var byImage: [UInt64: Range<Int>] = [:]
        /// The next page to ask for in order.
        private var cursor = (area: 0, page: UInt64(0))
        /// Ranges needed before their turn, first first.
        private var urgent: [(area: Int, page: UInt64, pages: UInt64)] = []
        /// Requests sent and not yet answered, oldest first.
        private var inFlight: [(area: Int, page: UInt64, request: PageRequest)] = []
        private var inFlightHead = 0

        /// Pages the daemon may ask for, and how many have arrived.
        public let totalPages: UInt64
        public private(set) var arrivedPages: UInt64 = 0
        /// Pages asked for and not yet answered.
        public private(set) var pagesInFlight: UInt64 = 0
        /// Pages kept so far: the store's next free page.
        public private(set) var storedPages: UInt32 = 0

        /// The most pages a fetch may hold (the store's page numbers are 31 bits): 8 TiB.
        public static let maximumPages: UInt64 = 1 << 31 - 1

        /// The lazy ranges of `pagemaps` (by image id): throws if one overlaps another or the
        /// total is beyond `limit` pages.
        public init(pagemaps: [UInt64: Images.Pagemap], limit: UInt64 = maximumPages) throws(Images.Malformed) {
            var total: UInt64 = 0
            for image in pagemaps.keys.sorted() {
                let lazy = pagemaps[image]!.entries.filter { $0.flags & Images.lazy != 0 }.sorted { $0.vaddr < $1.vaddr }
                let first = areas.count
                var previousEnd: UInt64 = 0
                for entry in lazy {
                    guard entry.pages > 0, entry.vaddr % Images.pageSize == 0,
                          entry.pages <= (UInt64.max - entry.vaddr) / Images.pageSize
                    else { throw Images.Malformed("a lazy range of \(entry.pages) pages at \(Images.hex(entry.vaddr)) of image \(image)") }
                    guard entry.vaddr >= previousEnd else {
                        throw Images.Malformed("lazy ranges of image \(image) overlap at \(Images.hex(entry.vaddr))")
                    }
                    total += entry.pages
                    guard total <= min(limit, Self.maximumPages) else {
                        throw Images.Malformed("more than \(min(limit, Self.maximumPages)) lazy pages")
                    }
                    previousEnd = entry.end
                    areas.append(Area(image: image, vaddr: entry.vaddr, pages: entry.pages, kept: []))
                }
                if areas.count > first { byImage[image] = first..<areas.count }
            }
            // Only now, once the total is known to be bounded.
            for index in areas.indices { areas[index].kept = Array(repeating: Self.notAsked, count: Int(areas[index].pages)) }
            totalPages = total
        }

        /// Whether every page has arrived.
        public var isComplete: Bool { arrivedPages == totalPages }

        // MARK: The daemon's side

        /// Where a daemon's request falls: its area, first page and page count (clamped to the
        /// area's end, as criu clamps to its iovec), or why it cannot be served.
        public struct Place: Sendable, Equatable {
            let area: Int
            public let page: UInt64
            public let pages: UInt64
        }

        /// Where `request` (a get) falls, or nil if it asks for pages outside every lazy range.
        public func place(_ request: PageRequest) -> Place? {
            guard request.pages > 0, request.vaddr % Images.pageSize == 0, let range = byImage[request.image] else { return nil }
            // The last area that starts at or below the address.
            var (low, high) = (range.lowerBound, range.upperBound)
            while low < high {
                let middle = (low + high) / 2
                if areas[middle].vaddr <= request.vaddr { low = middle + 1 } else { high = middle }
            }
            guard low > range.lowerBound else { return nil }
            let area = areas[low - 1]
            guard request.vaddr < area.end else { return nil }
            let page = (request.vaddr - area.vaddr) / Images.pageSize
            return Place(area: low - 1, page: page, pages: min(request.pages, area.pages - page))
        }

        /// Where `place`'s pages are kept, as runs (first store page, page count), once all of
        /// them have arrived; nil while any has not.
        public func kept(_ place: Place) -> [(storePage: UInt32, pages: UInt64)]? {
            let kept = areas[place.area].kept
            var runs: [(storePage: UInt32, pages: UInt64)] = []
            for index in Int(place.page)..<Int(place.page + place.pages) {
                let at = kept[index]
                guard at >= 0 else { return nil }
                if let last = runs.last, UInt64(last.storePage) + last.pages == UInt64(at) {
                    runs[runs.count - 1].pages += 1
                } else {
                    runs.append((UInt32(at), 1))
                }
            }
            return runs
        }

        /// `place` is needed now: what of it is not asked for yet goes before the rest.
        public mutating func hurry(_ place: Place) {
            let kept = areas[place.area].kept
            guard (Int(place.page)..<Int(place.page + place.pages)).contains(where: { kept[$0] == Self.notAsked }) else { return }
            urgent.append((place.area, place.page, place.pages))
        }

        // MARK: The source's side

        /// The next request to send, of at most `maximumPages` pages, or nil if every page has
        /// been asked for (or `maximumPages` is 0). Urgent ranges go first, then, if `ahead`,
        /// the rest in order (not while the job is being restored: its own first pages should
        /// not wait behind others).
        public mutating func nextRequest(maximumPages: UInt64, ahead: Bool = true) -> PageRequest? {
            guard maximumPages > 0 else { return nil }
            while let first = urgent.first {
                if let request = take(area: first.area, from: first.page, within: first.pages, maximumPages: maximumPages) {
                    return request
                }
                urgent.removeFirst()
            }
            guard ahead else { return nil }
            while cursor.area < areas.count {
                let area = areas[cursor.area]
                if let request = take(area: cursor.area, from: cursor.page, within: area.pages - cursor.page, maximumPages: maximumPages) {
                    return request
                }
                cursor = (cursor.area + 1, 0)
            }
            return nil
        }

        /// Asks for the first run of pages not yet asked for in `pages` pages from `page` of
        /// `area`, of at most `maximumPages`.
        private mutating func take(area index: Int, from page: UInt64, within pages: UInt64, maximumPages: UInt64) -> PageRequest? {
            let end = Int(page + pages)
            guard let start = (Int(page)..<end).first(where: { areas[index].kept[$0] == Self.notAsked }) else { return nil }
            var stop = start
            while stop < end, stop - start < maximumPages, areas[index].kept[stop] == Self.notAsked {
                areas[index].kept[stop] = Self.asked
                stop += 1
            }
            let area = areas[index]
            let request = PageRequest(
                command: PageRequest.get, pages: UInt64(stop - start), vaddr: area.vaddr + UInt64(start) * Images.pageSize, image: area.image)
            inFlight.append((index, UInt64(start), request))
            pagesInFlight += request.pages
            return request
        }

        /// Checks an answer's header from the source against the oldest request in flight:
        /// the page count that follows it (at least one, at most what was asked).
        public func answered(_ header: PageRequest) throws(Images.Malformed) -> UInt64 {
            guard inFlightHead < inFlight.count else { throw Images.Malformed("an answer to no request") }
            let asked = inFlight[inFlightHead].request
            // Decoded headers keep only the command, not its flags.
            guard header.command == PageRequest.addWithFlags else {
                throw Images.Malformed("an answer with command \(Images.hex(header.command)), not pages")
            }
            guard header.image == asked.image, header.vaddr == asked.vaddr, header.pages > 0, header.pages <= asked.pages else {
                throw Images.Malformed(
                    "an answer of \(header.pages) pages at \(Images.hex(header.vaddr)) of image \(header.image) to a request for \(asked.pages) at \(Images.hex(asked.vaddr)) of \(asked.image)")
            }
            return header.pages
        }

        /// The oldest request's answer of `pages` pages (``answered(_:)``) is kept from the
        /// store's next free page on. Pages it did not bring are asked for again, first.
        public mutating func arrived(pages: UInt64) {
            let (index, page, request) = inFlight[inFlightHead]
            inFlightHead += 1
            if inFlightHead > 64 && inFlightHead * 2 > inFlight.count {
                inFlight.removeFirst(inFlightHead)
                inFlightHead = 0
            }
            pagesInFlight -= request.pages
            for offset in 0..<pages {
                areas[index].kept[Int(page + offset)] = Int32(storedPages)
                storedPages += 1
            }
            arrivedPages += pages
            if pages < request.pages {
                for offset in pages..<request.pages { areas[index].kept[Int(page + offset)] = Self.notAsked }
                urgent.insert((index, page + pages, request.pages - pages), at: 0)
            }
        }
    }
}
