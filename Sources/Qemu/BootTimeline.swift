extension Qemu {
    /// Where a boot's time goes, read off its serial console: the instant each phase's first
    /// line appeared, from QEMU's start. Pure: ``record(_:at:)`` takes the console text as it
    /// grows, so the phases are unit-tested on recorded logs.
    ///
    /// The phases, each ending at its marker's first appearance after the previous one:
    /// - firmware: SeaBIOS or OVMF until a boot loader prints its banner;
    /// - boot loader: its menu, its timeout and loading the kernel and initramfs, until the
    ///   kernel's first line (`Linux version`);
    /// - kernel: until it starts the initramfs's `/init`;
    /// - live init: modules, finding the medium, the squashfs, until systemd's first line;
    /// - systemd: until the serial console's `login:` prompt.
    ///
    /// Works for any image that prints to the serial console (livebuild's, or live-build's
    /// booted with `console=ttyS0`); a phase whose marker never shows stays nil.
    public struct BootTimeline: Sendable, Hashable, Codable {
        public enum Phase: String, Sendable, CaseIterable, Codable {
            case firmware, bootLoader = "boot loader", kernel, liveInit = "live init", systemd
        }

        /// Each phase's end marker: any one of the strings, searched after the previous
        /// phase's marker.
        public static let markers: [(phase: Phase, patterns: [String])] = [
            (.firmware, ["ISOLINUX", "SYSLINUX", "GNU GRUB", "Welcome to GRUB"]),
            (.bootLoader, ["Linux version "]),
            (.kernel, ["Run /init as init process"]),
            (.liveInit, ["systemd[1]: ", "Welcome to Debian", "Welcome to "]),
            (.systemd, ["login:"]),
        ]

        /// Seconds from QEMU's start at which each phase ended, in phase order.
        public private(set) var ends: [Phase: Double] = [:]
        /// Where in the console text (UTF-8 offset) the search for the next marker starts.
        private var searchFrom = 0

        public init() {}

        /// The phases still awaited: those after the last one seen. A phase whose marker never
        /// showed before a later one's (a `quiet` kernel prints no `Linux version`) stays nil.
        var awaited: [(phase: Phase, patterns: [String])] {
            let lastSeen = Self.markers.lastIndex { ends[$0.phase] != nil }
            return Array(Self.markers[(lastSeen.map { $0 + 1 } ?? 0)...])
        }

        /// Seconds from QEMU's start to the login prompt.
        public var total: Double? { ends[.systemd] }

        /// Each phase's own duration; nil for a phase whose end, or the previous phase's end,
        /// was not seen.
        public var durations: [(phase: Phase, seconds: Double?)] {
            var previous: Double? = 0
            return Self.markers.map { phase, _ in
                let end = ends[phase]
                defer { previous = end }
                guard let end, let start = previous else { return (phase, nil) }
                return (phase, end - start)
            }
        }

        /// Whether `login:` was seen.
        public var reachedLogin: Bool { ends[.systemd] != nil }

        /// Reads `console` (the whole text so far) at `seconds` from QEMU's start and records
        /// every marker that has appeared since the last call, in order. Markers found in one
        /// call get the same instant: poll often (the runner polls every 50 ms).
        public mutating func record(_ console: String, at seconds: Double) {
            let utf8 = console.utf8
            while searchFrom <= utf8.count {
                let start = utf8.index(utf8.startIndex, offsetBy: searchFrom)
                // The first awaited phase, in phase order, whose marker is there.
                var hit: (Phase, Range<String.Index>)?
                for (phase, patterns) in awaited {
                    if let found = patterns.compactMap({ console[start...].range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
                        hit = (phase, found)
                        break
                    }
                }
                guard let (phase, found) = hit else { return }
                ends[phase] = seconds
                searchFrom = utf8.distance(from: utf8.startIndex, to: found.upperBound)
            }
        }

        enum CodingKeys: String, CodingKey { case ends }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let raw = try container.decode([String: Double].self, forKey: .ends)
            ends = Dictionary(uniqueKeysWithValues: raw.compactMap { key, value in Phase(rawValue: key).map { ($0, value) } })
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Dictionary(uniqueKeysWithValues: ends.map { ($0.key.rawValue, $0.value) }), forKey: .ends)
        }

        public static func == (lhs: Self, rhs: Self) -> Bool { lhs.ends == rhs.ends }
        public func hash(into hasher: inout Hasher) { hasher.combine(ends) }
    }

    /// systemd-analyze's summary line, `Startup finished in 7.170s (kernel) + 16.090s
    /// (userspace) = 23.261s`: the kernel (with the initramfs) and userspace seconds.
    public static func startupFinished(_ text: String) -> (kernel: Double, userspace: Double)? {
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.contains("Startup finished in ") }) else { return nil }
        func seconds(before label: String) -> Double? {
            guard let range = line.range(of: " (\(label))") else { return nil }
            // The span runs back to "finished in " or "+ ", and may be several words ("1min 2.5s").
            let before = line[..<range.lowerBound]
            let start = [" in ", " + "].compactMap { before.range(of: $0, options: .backwards)?.upperBound }.max() ?? before.startIndex
            return systemdSpan(String(before[start...]))
        }
        guard let kernel = seconds(before: "kernel"), let userspace = seconds(before: "userspace") else { return nil }
        return (kernel, userspace)
    }

    /// A systemd time span as systemd-analyze prints it (`7.170s`, `812ms`, `1min 2.5s`).
    public static func systemdSpan(_ text: String) -> Double? {
        var total = 0.0
        var matched = false
        for part in text.split(separator: " ") {
            let units: [(String, Double)] = [("min", 60), ("ms", 0.001), ("us", 0.000_001), ("s", 1), ("h", 3600)]
            guard let (unit, scale) = units.first(where: { part.hasSuffix($0.0) }),
                  let value = Double(part.dropLast(unit.count)) else { return nil }
            total += value * scale
            matched = true
        }
        return matched ? total : nil
    }
}
