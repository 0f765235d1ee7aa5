import Migration

extension FuzzTargets {
    /// CRIU's images as the destination reads them for a lazy restore from its own copy
    /// (``Migration/Images``): the bytes are `length:u16` then a page map's entries (after its
    /// magic), then a memory map's (`mm-ID.img`); the same bytes also go through the core
    /// image's and the process tree's decoders and CRIU's page-server request in both layouts. What decodes is planned
    /// lazily and looked up in a chain; the plan must keep every page, in order, with every
    /// present page still present.
    public static func criuImages(_ bytes: [UInt8]) {
        typealias Images = Migration.Images
        func header(_ magic: UInt32) -> [UInt8] { Array(Images.file(magic: magic, entries: []).prefix(8)) }
        let split = bytes.count >= 2 ? min(Int(bytes[0]) | Int(bytes[1]) << 8, bytes.count - 2) : 0
        let mapBytes = bytes.count >= 2 ? Array(bytes[2..<2 + split]) : []
        let mmBytes = bytes.count >= 2 ? Array(bytes[(2 + split)...]) : []
        _ = try? Images.stackPointer(core: header(Images.coreMagic) + bytes)
        if let pids = try? Images.processes(pstree: header(Images.pstreeMagic) + bytes) {
            precondition(pids.allSatisfy { $0 > 0 && $0 <= 1 << 22 }, "a process id out of range")
        }
        for size in [24, 32] where bytes.count >= size {
            if let request = Images.PageRequest(Array(bytes.prefix(size))) {
                precondition(request.answer(pages: request.pages, size: size).count == size, "an answer of another size")
            }
        }
        guard let pagemap = try? Images.Pagemap(bytes: header(Images.pagemapMagic) + mapBytes) else { return }
        precondition((try? Images.Pagemap(bytes: pagemap.bytes)) == pagemap, "a page map does not re-decode to itself")
        let areas = (try? Images.areas(mm: header(Images.mmMagic) + mmBytes)) ?? []
        let stack = pagemap.entries.first.map { $0.vaddr + ($0.pages / 2) * Images.pageSize }
        let (lazy, count) = Images.lazy(pagemap, areas: areas, stackPages: stack.map { [$0] } ?? [])
        func total(_ map: Images.Pagemap, _ mask: UInt32) -> UInt64 {
            map.entries.filter { mask == 0 || $0.flags & mask != 0 }.reduce(0) { $0 + $1.pages }
        }
        precondition(total(lazy, 0) == total(pagemap, 0), "the lazy page map lost or gained pages")
        precondition(total(lazy, Images.present) == total(pagemap, Images.present), "the lazy page map moved the pages file")
        precondition(total(lazy, Images.lazy) == count, "the lazy page count is wrong")
        precondition(zip(lazy.entries, lazy.entries.dropFirst()).allSatisfy { $0.end <= $1.vaddr }, "the lazy page map is out of order")
        precondition((try? Images.Pagemap(bytes: lazy.bytes)) == lazy, "the lazy page map does not re-decode to itself")
        let chain = Images.Chain(levels: [pagemap, lazy])
        for entry in pagemap.entries.prefix(64) {
            let pieces = chain.pieces(from: entry.vaddr, pages: min(entry.pages, 1 << 18))
            precondition(pieces.reduce(0) { $0 + $1.pages } <= entry.pages, "more pages found than asked for")
        }
    }
}
