extension Migration {
    /// What the destination reads of CRIU's image files to restore a pre-copied job lazily from
    /// its own copy of the images (Docs/migration.md, "Lazy restore from local images"): each
    /// process's page map, its memory areas, and each thread's stack pointer; and the requests
    /// of CRIU's page-server protocol, which the agent answers from those images.
    ///
    /// The images come from the source over the network, so every decoder here treats its bytes
    /// as hostile: lengths are checked against what is there, counts are bounded, and anything
    /// malformed throws ``Malformed`` (the agent then restores the ordinary way). Written by
    /// hand rather than with swift-protobuf: it reads five fields of three messages and sets one
    /// flag, where the library would need CRIU's .proto files compiled into the static agent; the
    /// `criu-images` fuzz target covers it.
    public enum Images {
        /// Every image but a few service files starts with this, then the image's own magic.
        public static let commonMagic: UInt32 = 0x5456_4319
        public static let pagemapMagic: UInt32 = 0x5608_4025
        public static let mmMagic: UInt32 = 0x5749_2820
        public static let coreMagic: UInt32 = 0x5505_3847
        public static let pstreeMagic: UInt32 = 0x5027_3030
        public static let pageSize: UInt64 = 4096

        /// Why an image could not be read; `description` names what was wrong.
        public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
            public var description: String
            public init(_ description: String) { self.description = description }
        }

        // MARK: Image files

        /// The entries of an image file whose magic is `magic`: each a little-endian 32-bit
        /// length and that many bytes of one protobuf message. At most `limit` entries.
        public static func entries(_ bytes: [UInt8], magic: UInt32, limit: Int = 1 << 22) throws(Malformed) -> [ArraySlice<UInt8>] {
            guard bytes.count >= 8, word(bytes, 0) == commonMagic, word(bytes, 4) == magic else {
                throw Malformed("not a CRIU image with magic \(hex(magic))")
            }
            var entries: [ArraySlice<UInt8>] = []
            var index = 8
            while index < bytes.count {
                guard bytes.count - index >= 4 else { throw Malformed("an entry's length is cut short at byte \(index)") }
                let length = Int(word(bytes, index))
                index += 4
                guard length <= bytes.count - index else { throw Malformed("an entry of \(length) bytes at byte \(index) runs past the end") }
                guard entries.count < limit else { throw Malformed("more than \(limit) entries") }
                entries.append(bytes[index..<index + length])
                index += length
            }
            return entries
        }

        /// An image file of `magic` holding `entries`.
        public static func file(magic: UInt32, entries: [[UInt8]]) -> [UInt8] {
            var bytes: [UInt8] = []
            append32(commonMagic, to: &bytes)
            append32(magic, to: &bytes)
            for entry in entries {
                append32(UInt32(entry.count), to: &bytes)
                bytes += entry
            }
            return bytes
        }

        // MARK: Protocol buffers' wire format

        /// One field of a message: a varint, or a length-delimited value (a nested message).
        /// Fixed-width values are skipped: nothing read here is one.
        enum Value: Equatable {
            case varint(UInt64)
            case bytes(ArraySlice<UInt8>)
            case fixed
        }

        /// The fields of one message, in order.
        static func fields(_ bytes: ArraySlice<UInt8>) throws(Malformed) -> [(number: UInt64, value: Value)] {
            var fields: [(number: UInt64, value: Value)] = []
            var index = bytes.startIndex
            while index < bytes.endIndex {
                let key = try varint(bytes, &index)
                let number = key >> 3
                guard number > 0 else { throw Malformed("a field numbered 0") }
                switch key & 7 {
                case 0:
                    fields.append((number, .varint(try varint(bytes, &index))))
                case 1, 5:
                    let width = key & 7 == 1 ? 8 : 4
                    guard bytes.endIndex - index >= width else { throw Malformed("a fixed field runs past the end") }
                    index += width
                    fields.append((number, .fixed))
                case 2:
                    let length = try varint(bytes, &index)
                    guard length <= UInt64(bytes.endIndex - index) else { throw Malformed("a field of \(length) bytes runs past the end") }
                    fields.append((number, .bytes(bytes[index..<index + Int(length)])))
                    index += Int(length)
                default:
                    throw Malformed("wire type \(key & 7) (groups are not used by CRIU)")
                }
            }
            return fields
        }

        static func varint(_ bytes: ArraySlice<UInt8>, _ index: inout Int) throws(Malformed) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.endIndex else { throw Malformed("a varint runs past the end") }
                let byte = bytes[index]
                index += 1
                guard shift < 64, shift < 63 || byte <= 1 else { throw Malformed("a varint longer than 64 bits") }
                value |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }

        static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        static func appendField(_ number: UInt64, _ value: UInt64, to bytes: inout [UInt8]) {
            appendVarint(number << 3, to: &bytes)
            appendVarint(value, to: &bytes)
        }

        static func varintField(_ number: UInt64, in fields: [(number: UInt64, value: Value)]) -> UInt64? {
            for field in fields where field.number == number { if case .varint(let value) = field.value { return value } }
            return nil
        }

        static func messageField(_ number: UInt64, in fields: [(number: UInt64, value: Value)]) -> ArraySlice<UInt8>? {
            for field in fields where field.number == number { if case .bytes(let value) = field.value { return value } }
            return nil
        }

        // MARK: Page maps

        /// Page-map flags (CRIU's pagemap.h).
        public static let inParent: UInt32 = 1 << 0
        public static let lazy: UInt32 = 1 << 1
        public static let present: UInt32 = 1 << 2

        /// One entry of a page map: `pages` pages from `vaddr`, whose contents are in this
        /// image's pages file (``present``), in the parent image (``inParent``), and may be
        /// restored on demand (``lazy``).
        public struct PagemapEntry: Sendable, Equatable {
            public var vaddr: UInt64
            public var pages: UInt64
            public var flags: UInt32
            public var end: UInt64 { vaddr + pages * pageSize }

            public init(vaddr: UInt64, pages: UInt64, flags: UInt32) {
                (self.vaddr, self.pages, self.flags) = (vaddr, pages, flags)
            }
        }

        /// `pagemap-ID.img`: the pages file it indexes (`pages-PAGESID.img`) and its entries,
        /// checked to be page-aligned, non-empty, ascending and not overlapping.
        public struct Pagemap: Sendable, Equatable {
            public var pagesID: UInt32
            public var entries: [PagemapEntry]

            public init(pagesID: UInt32, entries: [PagemapEntry]) {
                (self.pagesID, self.entries) = (pagesID, entries)
            }

            public init(bytes: [UInt8]) throws(Malformed) {
                let raw = try Images.entries(bytes, magic: pagemapMagic)
                guard let head = raw.first, let id = varintField(1, in: try fields(head)), id <= UInt32.max else {
                    throw Malformed("a page map without its head")
                }
                pagesID = UInt32(id)
                entries = []
                entries.reserveCapacity(raw.count - 1)
                var previousEnd: UInt64 = 0
                for entry in raw.dropFirst() {
                    let fields = try fields(entry)
                    guard let vaddr = varintField(1, in: fields) else { throw Malformed("a page-map entry without its address") }
                    // CRIU 3.x wrote the count in field 2 (32 bits), later ones in field 5 as well.
                    guard let pages = varintField(5, in: fields) ?? varintField(2, in: fields) else {
                        throw Malformed("a page-map entry without its page count")
                    }
                    var flags: UInt32
                    if varintField(3, in: fields) == 1 {
                        flags = inParent
                    } else if let value = varintField(4, in: fields) {
                        guard value <= 7 else { throw Malformed("page-map flags \(value) at \(hex(vaddr))") }
                        flags = UInt32(value)
                    } else {
                        flags = present
                    }
                    let (length, overflow) = pages.multipliedReportingOverflow(by: pageSize)
                    guard pages > 0, !overflow, vaddr % pageSize == 0, vaddr >= previousEnd, vaddr <= UInt64.max - length,
                          vaddr + length <= 1 << 57
                    else {
                        throw Malformed("a page-map entry of \(pages) pages at \(hex(vaddr)) is misaligned, empty, out of order or out of range")
                    }
                    if flags & present != 0 && flags & inParent != 0 { throw Malformed("pages at \(hex(vaddr)) both here and in the parent") }
                    previousEnd = vaddr + length
                    entries.append(PagemapEntry(vaddr: vaddr, pages: pages, flags: flags))
                }
            }

            /// The image file CRIU reads back.
            public var bytes: [UInt8] {
                var head: [UInt8] = []
                appendField(1, UInt64(pagesID), to: &head)
                return file(magic: pagemapMagic, entries: [head] + entries.map { entry in
                    var bytes: [UInt8] = []
                    appendField(1, entry.vaddr, to: &bytes)
                    appendField(2, entry.pages & 0xffff_ffff, to: &bytes)
                    appendField(4, UInt64(entry.flags), to: &bytes)
                    appendField(5, entry.pages, to: &bytes)
                    return bytes
                })
            }
        }

        // MARK: Memory areas and threads

        /// A memory area of `mm-ID.img` (the fields that decide whether its pages can be lazy).
        public struct Area: Sendable, Equatable {
            public var start: UInt64
            public var end: UInt64
            public var flags: UInt64
            public var status: UInt64

            public init(start: UInt64, end: UInt64, flags: UInt64, status: UInt64) {
                (self.start, self.end, self.flags, self.status) = (start, end, flags, status)
            }

            /// CRIU's own rule (vma.h, `vma_entry_can_be_lazy`): private anonymous memory, not
            /// locked, not huge pages, not the vDSO, vvar or vsyscall page.
            public var canBeLazy: Bool {
                let (anonymous, isPrivate, locked, hugetlb): (UInt64, UInt64, UInt64, UInt64) = (0x20, 0x02, 0x2000, 0x40000)
                let special: UInt64 = 1 << 2 | 1 << 3 | 1 << 12  // VSYSCALL, VDSO, VVAR
                return flags & anonymous != 0 && flags & isPrivate != 0 && flags & locked == 0 && flags & hugetlb == 0 && status & special == 0
            }
        }

        /// The memory areas of one process (`mm-ID.img`), in order.
        public static func areas(mm bytes: [UInt8]) throws(Malformed) -> [Area] {
            guard let entry = try entries(bytes, magic: mmMagic).first else { throw Malformed("an empty mm image") }
            var areas: [Area] = []
            for field in try fields(entry) where field.number == 14 {
                guard case .bytes(let message) = field.value else { throw Malformed("a memory area that is not a message") }
                let area = try fields(message)
                guard let start = varintField(1, in: area), let end = varintField(2, in: area), start < end,
                      start % pageSize == 0, end % pageSize == 0,
                      let flags = varintField(6, in: area), let status = varintField(7, in: area)
                else { throw Malformed("a memory area without page-aligned bounds, flags or status") }
                areas.append(Area(start: start, end: end, flags: flags, status: status))
            }
            return areas
        }

        /// An `mm-ID.img` holding `areas` and nothing else CRIU would need: for tests and fuzz
        /// seeds.
        public static func mm(areas: [Area]) -> [UInt8] {
            var message: [UInt8] = []
            for area in areas {
                var fields: [UInt8] = []
                for (number, value) in [(1, area.start), (2, area.end), (3, 0), (4, 0), (5, 3), (6, area.flags), (7, area.status)] as [(UInt64, UInt64)] {
                    appendField(number, value, to: &fields)
                }
                appendVarint(14 << 3 | 2, to: &message)
                appendVarint(UInt64(fields.count), to: &message)
                message += fields
            }
            return file(magic: mmMagic, entries: [message])
        }

        /// The stack pointer of the thread in `core-ID.img`, or nil if the image is not an
        /// x86-64 thread's (whose registers are not read here).
        public static func stackPointer(core bytes: [UInt8]) throws(Malformed) -> UInt64? {
            guard let entry = try entries(bytes, magic: coreMagic).first else { throw Malformed("an empty core image") }
            let core = try fields(entry)
            guard varintField(1, in: core) == 1, let info = messageField(2, in: core) else { return nil }
            guard let registers = messageField(2, in: try fields(info)), let sp = varintField(20, in: try fields(registers)) else {
                throw Malformed("an x86-64 core image without its stack pointer")
            }
            return sp
        }

        /// The process ids in `pstree.img`, in its order: each entry's `pid` (field 1). At
        /// most `limit` processes; a pid of 0 or over 2^22 (the kernel's PID_MAX_LIMIT) throws.
        public static func processes(pstree bytes: [UInt8], limit: Int = 1 << 16) throws(Malformed) -> [UInt32] {
            var pids: [UInt32] = []
            for entry in try entries(bytes, magic: pstreeMagic, limit: limit) {
                guard let pid = varintField(1, in: try fields(entry)), pid > 0, pid <= 1 << 22 else {
                    throw Malformed("a process tree entry without a valid pid")
                }
                pids.append(UInt32(pid))
            }
            return pids
        }

        // MARK: The lazy page map

        /// `pagemap` with every page CRIU could have left lazy marked ``lazy``: pages in areas
        /// that ``Area/canBeLazy``, except the page each thread's stack pointer is in (CRIU
        /// restores those eagerly). Such pages here keep ``present`` (the restore skips them in
        /// the pages file); such pages in the parent lose ``inParent``, so the lazy-pages daemon
        /// asks the page server for them (its own reads from a parent image never complete,
        /// criu 4.1). Entries are split where that changes. Also returns how many pages are lazy.
        public static func lazy(_ pagemap: Pagemap, areas: [Area], stackPages: Set<UInt64>) -> (pagemap: Pagemap, lazyPages: UInt64) {
            let lazyAreas = areas.filter(\.canBeLazy).sorted { $0.start < $1.start }
            let stacks = Set(stackPages.map { $0 & ~(pageSize - 1) }).sorted()
            var result = Pagemap(pagesID: pagemap.pagesID, entries: [])
            var count: UInt64 = 0
            func add(_ start: UInt64, _ end: UInt64, _ flags: UInt32) {
                guard start < end else { return }
                let piece = PagemapEntry(vaddr: start, pages: (end - start) / pageSize, flags: flags)
                if flags & lazy != 0 { count += piece.pages }
                if var last = result.entries.last, last.end == piece.vaddr, last.flags == piece.flags {
                    last.pages += piece.pages
                    result.entries[result.entries.count - 1] = last
                } else {
                    result.entries.append(piece)
                }
            }
            var area = 0
            for entry in pagemap.entries {
                let eager = entry.flags & ~lazy
                let lazyFlags = entry.flags & present != 0 ? present | lazy : lazy
                var cursor = entry.vaddr
                while cursor < entry.end {
                    while area < lazyAreas.count && lazyAreas[area].end <= cursor { area += 1 }
                    guard area < lazyAreas.count, lazyAreas[area].start < entry.end else {
                        add(cursor, entry.end, eager)
                        break
                    }
                    if lazyAreas[area].start > cursor {
                        add(cursor, lazyAreas[area].start, eager)
                        cursor = lazyAreas[area].start
                    }
                    let stop = min(lazyAreas[area].end, entry.end)
                    // Lazy up to `stop`, but for the pages the threads' stacks point into.
                    var stack = lowerBound(stacks, cursor)
                    while stack < stacks.count && stacks[stack] < stop {
                        add(cursor, stacks[stack], lazyFlags)
                        add(stacks[stack], stacks[stack] + pageSize, eager)
                        cursor = stacks[stack] + pageSize
                        stack += 1
                    }
                    add(cursor, stop, lazyFlags)
                    cursor = max(cursor, stop)
                }
            }
            return (result, count)
        }

        /// The index of the first of `sorted` that is not below `value`.
        static func lowerBound(_ sorted: [UInt64], _ value: UInt64) -> Int {
            var (low, high) = (0, sorted.count)
            while low < high {
                let middle = (low + high) / 2
                if sorted[middle] < value { low = middle + 1 } else { high = middle }
            }
            return low
        }

        // MARK: Finding pages in a chain of images

        /// Where one process's pages are in a chain of images: level 0 is the final dump's page
        /// map as CRIU wrote it, each next level its parent's. Present pages sit in that level's
        /// pages file, in the order of its entries.
        public struct Chain: Sendable, Equatable {
            public let levels: [Pagemap]
            /// For each level, the offset in its pages file of each entry (present ones).
            let offsets: [[UInt64]]

            public init(levels: [Pagemap]) {
                self.levels = levels
                offsets = levels.map { pagemap in
                    var offset: UInt64 = 0
                    return pagemap.entries.map { entry in
                        defer { if entry.flags & present != 0 { offset += entry.pages * pageSize } }
                        return offset
                    }
                }
            }

            /// Where the page at `vaddr` is: its level, the offset in that level's pages file, and
            /// how many pages from there are contiguous in that file. Nil if no level has it.
            public func locate(_ vaddr: UInt64) -> (level: Int, offset: UInt64, pages: UInt64)? {
                for (level, pagemap) in levels.enumerated() {
                    let entries = pagemap.entries
                    var (low, high) = (0, entries.count)
                    while low < high {
                        let middle = (low + high) / 2
                        if entries[middle].end <= vaddr { low = middle + 1 } else { high = middle }
                    }
                    guard low < entries.count, entries[low].vaddr <= vaddr else { return nil }
                    let entry = entries[low]
                    if entry.flags & present != 0 {
                        let skipped = (vaddr - entry.vaddr) / pageSize
                        return (level, offsets[level][low] + skipped * pageSize, entry.pages - skipped)
                    }
                    guard entry.flags & inParent != 0 else { return nil }
                }
                return nil
            }

            /// The pieces that serve `pages` pages from `vaddr`, in order, as long as they are
            /// contiguous in the chain: level, offset, page count each. Empty if the first page
            /// is nowhere.
            public func pieces(from vaddr: UInt64, pages: UInt64) -> [(level: Int, offset: UInt64, pages: UInt64)] {
                var pieces: [(level: Int, offset: UInt64, pages: UInt64)] = []
                var (address, left) = (vaddr, pages)
                while left > 0, let found = locate(address) {
                    let count = min(found.pages, left)
                    pieces.append((found.level, found.offset, count))
                    address += count * pageSize
                    left -= count
                }
                return pieces
            }
        }

        // MARK: The page-server protocol

        /// A request of CRIU's page-server protocol (page-xfer.c, `struct page_server_iov`).
        public struct PageRequest: Sendable, Equatable {
            public static let get: UInt32 = 7
            public static let close: UInt32 = 0x1023
            public static let forceClose: UInt32 = 0x1024
            static let addWithFlags: UInt32 = 6

            public var command: UInt32
            public var pages: UInt64
            public var vaddr: UInt64
            /// The process's image id (its `pagemap-ID.img`).
            public var image: UInt64

            public init(command: UInt32, pages: UInt64, vaddr: UInt64, image: UInt64) {
                (self.command, self.pages, self.vaddr, self.image) = (command, pages, vaddr, image)
            }

            /// The size of one request for criu `version` (major, minor): 24 bytes up to 4.1
            /// (a 32-bit page count), 32 from 4.2 (a 64-bit one, after padding).
            public static func size(criu version: (major: Int, minor: Int)) -> Int {
                version.major > 4 || (version.major == 4 && version.minor >= 2) ? 32 : 24
            }

            /// Decodes a request of `bytes.count` bytes (24 or 32).
            public init?(_ bytes: [UInt8]) {
                guard bytes.count == 24 || bytes.count == 32 else { return nil }
                command = word(bytes, 0) & 0xffff
                if bytes.count == 24 {
                    pages = UInt64(word(bytes, 4))
                    (vaddr, image) = (long(bytes, 8), long(bytes, 16))
                } else {
                    (pages, vaddr, image) = (long(bytes, 8), long(bytes, 16), long(bytes, 24))
                }
            }

            /// The answer's header for `pages` pages from this request's address, in `size` bytes.
            public func answer(pages: UInt64, size: Int) -> [UInt8] {
                PageRequest(command: Self.addWithFlags | present << 16, pages: pages, vaddr: vaddr, image: image).bytes(size: size)
            }

            /// This request in `size` bytes (24 or 32), as criu sends it.
            public func bytes(size: Int) -> [UInt8] {
                var bytes: [UInt8] = []
                append32(command, to: &bytes)
                if size == 24 {
                    append32(UInt32(truncatingIfNeeded: pages), to: &bytes)
                } else {
                    append32(0, to: &bytes)
                    append64(pages, to: &bytes)
                }
                append64(vaddr, to: &bytes)
                append64(image, to: &bytes)
                return bytes
            }
        }

        // MARK: Bytes

        static func word(_ bytes: [UInt8], _ at: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
        }

        static func long(_ bytes: [UInt8], _ at: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
        }

        static func append32(_ value: UInt32, to bytes: inout [UInt8]) {
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        }

        static func append64(_ value: UInt64, to bytes: inout [UInt8]) {
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }

        public static func hex(_ value: some BinaryInteger) -> String { "0x" + String(value, radix: 16) }
    }
}
