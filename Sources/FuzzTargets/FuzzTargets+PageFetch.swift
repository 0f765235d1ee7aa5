import Migration

extension FuzzTargets {
    /// Post-copy's fetch of pages from the source (``Migration/PageFetch``): the bytes are
    /// `length:u16` then a page map's entries (after its magic), then what the source answers,
    /// in 24-byte headers of criu's page-server protocol. Between answers the fetch asks for
    /// more (window and request sizes taken from the header bytes) and places a daemon's
    /// request made of the same bytes. Whatever comes, no more pages arrive than were asked
    /// for, each kept once, and the counts agree.
    public static func pageFetch(_ bytes: [UInt8]) {
        typealias Images = Migration.Images
        guard bytes.count >= 2 else { return }
        let split = min(Int(bytes[0]) | Int(bytes[1]) << 8, bytes.count - 2)
        let header = Array(Images.file(magic: Images.pagemapMagic, entries: []).prefix(8))
        guard let pagemap = try? Images.Pagemap(bytes: header + Array(bytes[2..<2 + split])),
              var fetch = try? Migration.PageFetch(pagemaps: [1: pagemap, 2: pagemap], limit: 1 << 16)
        else { return }
        var answers = bytes[(2 + split)...]
        var asked: UInt64 = 0
        while answers.count >= 24 {
            let chunk = Array(answers.prefix(24))
            answers = answers.dropFirst(24)
            let maximum = UInt64(chunk[4] & 0x7f)
            for _ in 0..<Int(chunk[5] & 3) {
                if let request = fetch.nextRequest(maximumPages: maximum) {
                    precondition(request.pages > 0 && request.pages <= maximum, "a request beyond its maximum")
                    asked += request.pages
                }
            }
            guard let answer = Images.PageRequest(chunk) else { continue }
            if let place = fetch.place(answer) {
                precondition(place.pages > 0 && place.pages <= answer.pages, "a daemon's request placed with more pages than asked")
                if chunk[6] & 1 == 1 { fetch.hurry(place) }
                if let runs = fetch.kept(place) {
                    precondition(runs.reduce(0) { $0 + $1.pages } == place.pages, "kept runs that are not the request")
                    precondition(runs.allSatisfy { UInt64($0.storePage) + $0.pages <= UInt64(fetch.storedPages) }, "a page kept beyond the store")
                }
            }
            guard let pages = try? fetch.answered(answer) else { continue }
            let before = fetch.arrivedPages
            fetch.arrived(pages: pages)
            precondition(fetch.arrivedPages == before + pages, "arrived pages miscounted")
        }
        precondition(fetch.arrivedPages <= fetch.totalPages && fetch.arrivedPages <= asked, "more pages arrived than were asked for")
        precondition(UInt64(fetch.storedPages) == fetch.arrivedPages, "the store and the arrivals disagree")
        precondition(fetch.pagesInFlight <= asked, "more pages in flight than asked for")
    }
}
