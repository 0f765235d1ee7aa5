import Foundation
import Migration
import Testing

/// The destination's reading of CRIU's images for a lazy restore from its own copy
/// (``Migration/Images``), on real images: `sleep` pre-dumped (CRIUImages/1) and dumped on top
/// of that (CRIUImages/2) by criu 4.1.1 in a TCG guest of the cluster image.
@Suite struct CRIUImagesTests {
    typealias Images = Migration.Images
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("CRIUImages").path

    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + path)))
    }

    @Test func realImagesDecodeAndReencode() throws {
        for level in ["1", "2"] {
            let bytes = try Self.bytes(level + "/pagemap-1703.img")
            let pagemap = try Images.Pagemap(bytes: bytes)
            #expect(pagemap.pagesID == 1 && !pagemap.entries.isEmpty)
            #expect(try Images.Pagemap(bytes: pagemap.bytes) == pagemap, "what decodes re-encodes to the same page map")
            let presentBytes = pagemap.entries.filter { $0.flags & Images.present != 0 }.reduce(0) { $0 + $1.pages } * Images.pageSize
            #expect(presentBytes == UInt64(try Self.bytes(level + "/pages-1.img").count), "the present pages are the pages file")
        }
        let final = try Images.Pagemap(bytes: try Self.bytes("2/pagemap-1703.img"))
        #expect(final.entries.contains { $0.flags & Images.inParent != 0 }, "pages unchanged since the pre-dump are holes")
        let areas = try Images.areas(mm: try Self.bytes("2/mm-1703.img"))
        #expect(areas.count > 10 && areas.contains(where: \.canBeLazy) && areas.contains { !$0.canBeLazy })
        let sp = try #require(try Images.stackPointer(core: try Self.bytes("2/core-1703.img")))
        #expect(areas.contains { $0.start <= sp && sp < $0.end }, "the stack pointer is in a memory area")
    }

    @Test func theProcessTreeNamesTheDumpedProcess() throws {
        #expect(try Images.processes(pstree: try Self.bytes("2/pstree.img")) == [1703])
        #expect(throws: Images.Malformed.self) { try Images.processes(pstree: try Self.bytes("2/inventory.img")) }
        let zeroPID = Images.file(magic: Images.pstreeMagic, entries: [[1 << 3, 0, 2 << 3, 1]])
        #expect(throws: Images.Malformed.self) { try Images.processes(pstree: zeroPID) }
    }

    @Test func aRoundSendsItsProcessTreeFirstAndItsMemoryLast() {
        let names = ["core-7.img", "pages-1.img", "ids-7.img", "mm-7.img", "pstree.img", "parent", "inventory.img", "pagemap-7.img", "ids-12.img", "pages-2.img"]
        let sent = Migration.sendingOrder(names.map { Migration.FileEntry(path: $0, size: 1, mode: 0o600) }).map(\.path)
        #expect(sent == ["ids-12.img", "ids-7.img", "inventory.img", "pstree.img", "core-7.img", "mm-7.img", "pagemap-7.img", "parent", "pages-1.img", "pages-2.img"])
    }

    /// The destination starts CRIU's lazy-pages daemon early only once what it reads at start
    /// is all there: the inventory, the process tree and each process's ids.
    @Test func theLazyPagesDaemonCanStartOnceTheProcessTreeIsComplete() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("criu-tree-\(getpid())").path
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func copy(_ name: String) throws {
            try FileManager.default.copyItem(atPath: Self.directory + "/2/" + name, toPath: scratch + "/" + name)
        }
        #expect(!Images.holdsProcessTree(scratch))
        try copy("pstree.img")
        #expect(!Images.holdsProcessTree(scratch), "no inventory yet")
        try copy("inventory.img")
        #expect(!Images.holdsProcessTree(scratch), "no ids-1703.img yet")
        #expect(FileManager.default.createFile(atPath: scratch + "/ids-1703.img", contents: Data()))
        #expect(Images.holdsProcessTree(scratch))
        // A pre-dump's round has no process tree; a malformed one counts as none.
        #expect(FileManager.default.createFile(atPath: scratch + "/pstree.img", contents: Data([1, 2, 3])))
        #expect(!Images.holdsProcessTree(scratch))
    }

    @Test func theLazyPageMapMarksWhatCRIUWouldAndKeepsThePagesFileInOrder() throws {
        let final = try Images.Pagemap(bytes: try Self.bytes("2/pagemap-1703.img"))
        let areas = try Images.areas(mm: try Self.bytes("2/mm-1703.img"))
        let stack = try #require(try Images.stackPointer(core: try Self.bytes("2/core-1703.img"))) & ~(Images.pageSize - 1)
        let (lazy, count) = Images.lazy(final, areas: areas, stackPages: [stack])
        #expect(count > 0)
        func pages(_ pagemap: Images.Pagemap, _ keep: (Images.PagemapEntry) -> Bool) -> [UInt64] {
            pagemap.entries.filter(keep).flatMap { entry in (0..<entry.pages).map { entry.vaddr + $0 * Images.pageSize } }
        }
        #expect(pages(lazy) { _ in true } == pages(final) { _ in true }, "the same pages, in the same order")
        #expect(pages(lazy) { $0.flags & Images.present != 0 } == pages(final) { $0.flags & Images.present != 0 },
                "present pages stay present: the pages file is read at the same offsets")
        let lazyPages = pages(lazy) { $0.flags & Images.lazy != 0 }
        #expect(UInt64(lazyPages.count) == count)
        #expect(!lazyPages.contains(stack), "the stack pointer's page is restored eagerly")
        for page in lazyPages {
            #expect(areas.contains { $0.canBeLazy && $0.start <= page && page < $0.end }, "\(page) is private anonymous memory")
        }
        for entry in lazy.entries where entry.flags & Images.lazy != 0 {
            #expect(entry.flags & Images.inParent == 0, "the daemon asks the page server for lazy pages of the parent")
        }
        for entry in lazy.entries where entry.flags & Images.lazy == 0 {
            #expect(final.entries.contains { $0.vaddr <= entry.vaddr && entry.end <= $0.end && $0.flags & ~Images.lazy == entry.flags })
        }
        #expect(try Images.Pagemap(bytes: lazy.bytes) == lazy)
    }

    @Test func everyPageOfTheFinalDumpIsFoundInTheChain() throws {
        let final = try Images.Pagemap(bytes: try Self.bytes("2/pagemap-1703.img"))
        let parent = try Images.Pagemap(bytes: try Self.bytes("1/pagemap-1703.img"))
        let chain = Images.Chain(levels: [final, parent])
        let sizes = [UInt64(try Self.bytes("2/pages-1.img").count), UInt64(try Self.bytes("1/pages-1.img").count)]
        for entry in final.entries {
            for index in 0..<entry.pages {
                let vaddr = entry.vaddr + index * Images.pageSize
                let found = try #require(chain.locate(vaddr), "page \(vaddr)")
                #expect(found.level == (entry.flags & Images.present != 0 ? 0 : 1))
                #expect(found.offset + found.pages * Images.pageSize <= sizes[found.level])
            }
        }
        // A whole entry in pieces, and nothing past the mapped pages.
        let hole = try #require(final.entries.first { $0.flags & Images.inParent != 0 })
        #expect(chain.pieces(from: hole.vaddr, pages: hole.pages).reduce(0) { $0 + $1.pages } == hole.pages)
        #expect(chain.locate(0) == nil && chain.pieces(from: 0, pages: 4).isEmpty)
        #expect(Images.Chain(levels: [final]).locate(hole.vaddr) == nil, "a hole with no parent level is nowhere")
    }

    @Test func malformedImagesThrowAndNeverTrap() throws {
        let bytes = try Self.bytes("2/pagemap-1703.img")
        for length in [0, 4, 8, 11, 20, bytes.count - 1] {
            #expect(throws: Images.Malformed.self) { try Images.Pagemap(bytes: Array(bytes.prefix(length))) }
        }
        #expect(throws: Images.Malformed.self) { try Images.areas(mm: bytes) }  // the wrong magic
        // Entries out of order, or overlapping.
        let reversed = Images.Pagemap(pagesID: 1, entries: [
            .init(vaddr: 0x20000, pages: 1, flags: Images.present), .init(vaddr: 0x10000, pages: 1, flags: Images.present),
        ])
        #expect(throws: Images.Malformed.self) { try Images.Pagemap(bytes: reversed.bytes) }
        let huge = Images.Pagemap(pagesID: 1, entries: [.init(vaddr: 0x1000, pages: UInt64.max / 2, flags: Images.present)])
        #expect(throws: Images.Malformed.self) { try Images.Pagemap(bytes: huge.bytes) }
        // A varint that never ends, and one longer than 64 bits.
        let common: [UInt8] = [0x19, 0x43, 0x56, 0x54, 0x25, 0x40, 0x08, 0x56]
        #expect(throws: Images.Malformed.self) { try Images.Pagemap(bytes: common + [3, 0, 0, 0, 0x08, 0xff, 0xff]) }
        #expect(throws: Images.Malformed.self) { try Images.Pagemap(bytes: common + [12, 0, 0, 0, 0x08] + Array(repeating: 0xff, count: 10) + [0x01]) }
    }

    @Test func pageServerRequestsInBothLayouts() throws {
        #expect(Images.PageRequest.size(criu: (4, 1)) == 24 && Images.PageRequest.size(criu: (4, 2)) == 32 && Images.PageRequest.size(criu: (5, 0)) == 32)
        let short: [UInt8] = [7, 0, 0, 0, 3, 0, 0, 0] + [0, 0x10, 0, 0, 0, 0, 0, 0] + [0xa7, 6, 0, 0, 0, 0, 0, 0]
        let request = try #require(Images.PageRequest(short))
        #expect(request == Images.PageRequest(command: Images.PageRequest.get, pages: 3, vaddr: 0x1000, image: 1703))
        let answer = request.answer(pages: 2, size: 24)
        #expect(answer == [6, 0, 4, 0, 2, 0, 0, 0] + Array(short[8...]))
        let long = [7, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0] + Array(short[8...])
        #expect(Images.PageRequest(long) == request)
        #expect(request.answer(pages: 2, size: 32).count == 32)
        #expect(Images.PageRequest([1, 2, 3]) == nil)
    }
}
