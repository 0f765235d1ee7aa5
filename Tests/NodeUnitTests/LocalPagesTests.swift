import Agent
import Foundation
import Migration
import Testing

/// The agent's page server for a lazy restore from the destination's images, against a
/// thread playing criu's lazy-pages daemon on a socket pair, over real images (CRIUImages: a
/// pre-dump and a dump of `sleep` by criu 4.1.1): every page asked for comes back with the bytes
/// the images hold for it, found here by a plain scan independent of the server's index.
@Suite struct LocalPagesTests {
    typealias Images = Migration.Images
    static let directory = CRIUImagesTests.directory + "/2"

    /// The bytes of page `vaddr` as the images hold them: the final dump's pages file if the
    /// page is present there, else its parent's.
    static func expected(_ vaddr: UInt64) throws -> [UInt8]? {
        for level in ["2", "1"] {
            let pagemap = try Images.Pagemap(bytes: try CRIUImagesTests.bytes(level + "/pagemap-1703.img"))
            var offset: UInt64 = 0
            for entry in pagemap.entries {
                if entry.vaddr <= vaddr && vaddr < entry.end {
                    guard entry.flags & Images.present != 0 else { break }
                    let pages = try CRIUImagesTests.bytes(level + "/pages-1.img")
                    let start = Int(offset + (vaddr - entry.vaddr))
                    return Array(pages[start..<start + Int(Images.pageSize)])
                }
                if entry.flags & Images.present != 0 { offset += entry.pages * Images.pageSize }
            }
        }
        return nil
    }

    static func lazyEntries() throws -> [Images.PagemapEntry] {
        let final = try Images.Pagemap(bytes: try CRIUImagesTests.bytes("2/pagemap-1703.img"))
        let areas = try Images.areas(mm: try CRIUImagesTests.bytes("2/mm-1703.img"))
        let stack = try #require(try Images.stackPointer(core: try CRIUImagesTests.bytes("2/core-1703.img")))
        return Images.lazy(final, areas: areas, stackPages: [stack]).pagemap.entries.filter { $0.flags & Images.lazy != 0 }
    }

    @Test(arguments: [24, 32]) func everyLazyPageComesBackAsTheImagesHoldIt(size: Int) throws {
        let entries = try Self.lazyEntries()
        #expect(entries.contains { $0.flags & Images.present == 0 }, "some lazy pages are in the parent")
        let requests = entries.map { Images.PageRequest(command: Images.PageRequest.get, pages: $0.pages, vaddr: $0.vaddr, image: 1703) }
        let result = try Agent.StreamProbe.localPages(directory: Self.directory, requests: requests, size: size, close: true)
        #expect(result.lazyPages == entries.reduce(0) { $0 + $1.pages })
        #expect(result.answers.count == requests.count)
        for (request, answer) in zip(requests, result.answers) {
            #expect(answer.header == request.answer(pages: request.pages, size: size), "the header repeats the request, with ADD_F|PRESENT")
            for index in 0..<Int(request.pages) {
                let page = Array(answer.pages[index * 4096..<(index + 1) * 4096])
                #expect(page == (try Self.expected(request.vaddr + UInt64(index) * Images.pageSize)), "page \(request.vaddr + UInt64(index) * 4096)")
            }
        }
        #expect(result.closeStatus == [0, 0, 0, 0], "close is answered with status 0")
        #expect(result.failure == nil)
    }

    @Test func aRequestForPagesThatAreNowhereEndsTheServerWithTheReason() throws {
        let entry = try #require(try Self.lazyEntries().first)
        let unknownImage = try Agent.StreamProbe.localPages(
            directory: Self.directory, requests: [.init(command: Images.PageRequest.get, pages: 1, vaddr: entry.vaddr, image: 4242)], size: 24, close: false)
        #expect(unknownImage.answers.isEmpty)
        #expect(unknownImage.failure?.contains("image 4242") == true, "\(unknownImage.failure ?? "no failure")")
        let unmapped = try Agent.StreamProbe.localPages(
            directory: Self.directory, requests: [.init(command: Images.PageRequest.get, pages: 1, vaddr: 0x1000, image: 1703)], size: 24, close: false)
        #expect(unmapped.answers.isEmpty && unmapped.failure?.contains("in no image here") == true, "\(unmapped.failure ?? "no failure")")
        // The daemon going away without `close` is a failure too: its pages may not all be in.
        let vanished = try Agent.StreamProbe.localPages(directory: Self.directory, requests: [], size: 24, close: false)
        #expect(vanished.failure != nil)
    }
}
