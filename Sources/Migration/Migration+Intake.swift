extension Migration {
    /// What a destination accepts from a migration's source, checked before anything touches
    /// the disk (Docs/security.md). The source is another member, and the cluster key proves
    /// no more than membership: names, paths, rounds, links and sizes all arrive from the
    /// network and are refused unless they follow these rules.
    public struct Intake: Sendable, Equatable {
        /// Pre-copy rounds plus the final dump are far fewer (the source stops at 5).
        public static let maxRound = 32
        /// The files of the job's own directory (round 0).
        public static let jobFiles: Set<String> = ["stdout", "stderr", "job.json"]
        /// Longest file name (Linux's NAME_MAX) and path (PATH_MAX less the NUL).
        public static let maxName = 255
        public static let maxPath = 4095
        /// Files per migration: CRIU writes a few per process and thread.
        public static let maxFiles = 100_000

        /// Bytes still allowed (the destination's available memory, less a reserve: images
        /// sit in tmpfs).
        public private(set) var budget: UInt64
        public private(set) var files = 0

        public init(budget: UInt64) {
            self.budget = budget
        }

        /// Where an admitted file goes.
        public enum Placement: Sendable, Equatable {
            /// Into the job's directory (round 0).
            case jobFile(String)
            /// A CRIU image of round `round`.
            case image(round: Int, name: String)
            /// Round `round`'s link to the round before it (CRIU's `parent`).
            case parentLink(round: Int, target: String)
            /// A file the job holds open, at its absolute path (written as the job's user).
            case openFile(String)
        }

        /// Why a file was refused; `description` names it.
        public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
            public var description: String
        }

        /// Checks one announced file and charges its size to the budget.
        public mutating func admit(round: Int, path: String, size: UInt64, link: String?) throws(Refusal) -> Placement {
            files += 1
            guard files <= Self.maxFiles else { throw Refusal(description: "more than \(Self.maxFiles) files") }
            guard link == nil || size == 0 else { throw Refusal(description: "link \(Self.shown(path)) announces \(size) bytes") }
            guard size <= budget else {
                throw Refusal(description: "\(Self.shown(path)): \(size) bytes would exceed the \(budget) bytes this node can still take")
            }
            let placement: Placement
            switch round {
            case -1:
                guard link == nil, Self.isOpenFilePath(path) else { throw Refusal(description: "open file path \(Self.shown(path)) is not allowed") }
                placement = .openFile(path)
            case 0:
                guard link == nil, Self.jobFiles.contains(path) else { throw Refusal(description: "job file \(Self.shown(path)) is not one of \(Self.jobFiles.sorted())") }
                placement = .jobFile(path)
            case 1...Self.maxRound:
                if let link {
                    guard path == "parent", let previous = Self.parentRound(link), previous >= 1, previous < round else {
                        throw Refusal(description: "link \(Self.shown(path)) -> \(Self.shown(link)) in round \(round) is not a link to an earlier round")
                    }
                    placement = .parentLink(round: round, target: link)
                } else {
                    guard Self.isImageName(path) else { throw Refusal(description: "image name \(Self.shown(path)) is not allowed") }
                    placement = .image(round: round, name: path)
                }
            default:
                throw Refusal(description: "round \(round) is outside -1...\(Self.maxRound)")
            }
            budget -= size
            return placement
        }

        /// Charges `bytes` that arrived another way (a pre-dump round's page server) to the
        /// budget.
        public mutating func charge(_ bytes: UInt64, for what: String) throws(Refusal) {
            guard bytes <= budget else {
                throw Refusal(description: "\(what): \(bytes) bytes would exceed the \(budget) bytes this node can still take")
            }
            budget -= bytes
        }

        /// A CRIU image file name: letters, digits, `.`, `_`, `-`, not starting with a dot.
        public static func isImageName(_ name: String) -> Bool {
            let bytes = Array(name.utf8)
            guard (1...maxName).contains(bytes.count), bytes[0] != UInt8(ascii: ".") else { return false }
            return bytes.allSatisfy { isNameByte($0) }
        }

        /// An absolute path with no empty, `.` or `..` component and no NUL, outside /proc,
        /// /sys and /dev.
        public static func isOpenFilePath(_ path: String) -> Bool {
            let bytes = Array(path.utf8)
            guard (2...maxPath).contains(bytes.count), bytes[0] == UInt8(ascii: "/"), !bytes.contains(0) else { return false }
            let components = bytes.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            for component in components {
                guard !component.isEmpty, component.count <= maxName else { return false }
                if component.elementsEqual([UInt8(ascii: ".")]) || component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { return false }
            }
            let first = String(decoding: components[components.startIndex], as: UTF8.self)
            return components.count > 1 && !["proc", "sys", "dev"].contains(first)
        }

        /// N in `../N`, the only link target CRIU's rounds use (`--prev-images-dir ../N`).
        static func parentRound(_ link: String) -> Int? {
            guard link.hasPrefix("../") else { return nil }
            let digits = link.dropFirst(3)
            guard (1...2).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(digits)
        }

        static func isNameByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }

        /// A peer's string as it may appear in a message: at most 80 characters, controls escaped.
        public static func shown(_ text: String) -> String {
            var result = ""
            for scalar in text.unicodeScalars.prefix(80) {
                result += scalar.value < 0x20 || scalar.value == 0x7F ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
            }
            return "\"" + result + (text.unicodeScalars.count > 80 ? "…" : "") + "\""
        }
    }
}
