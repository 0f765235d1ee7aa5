#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Text formatting without `String(format:)` (which would pull ICU into the static binary).
enum Output {
    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        var text = ""
        for row in rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            text += cells.joined(separator: "  ") + "\n"
        }
        return text
    }

    /// `value` rounded to `decimals` places: 1.5 → "1.50".
    static func fixed(_ value: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((abs(value) * scale).rounded())
        let whole = scaled / Int(scale)
        let fraction = String(scaled % Int(scale))
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(whole) }
        return sign + String(whole) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    /// 1536 KiB → "1.5M", 3 GiB → "3.0G".
    static func kibibytes(_ value: UInt64) -> String {
        if value >= 1 << 20 { return fixed(Double(value) / Double(1 << 20), decimals: 1) + "G" }
        if value >= 1 << 10 { return fixed(Double(value) / Double(1 << 10), decimals: 1) + "M" }
        return String(value) + "K"
    }

    /// 93784 s → "1d 2h", 3725 → "1h 2m", 62 → "1m 2s".
    static func duration(_ seconds: Int) -> String {
        let days = seconds / 86400, hours = seconds % 86400 / 3600, minutes = seconds % 3600 / 60
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(seconds % 60)s" }
        return "\(seconds)s"
    }

    /// Bytes in the largest binary unit that keeps the number at or above 1.
    static func bytes(_ value: UInt64) -> String {
        kibibytes(value / 1024)
    }

    /// A line on stderr that does not stop the command.
    /// A line on stderr.
    static func error(_ line: String) {
        LogsCommand.write(Array((line + "\n").utf8), to: 2)
    }

    static func warn(_ message: String) {
        LogsCommand.write(Array("warning: \(message)\n".utf8), to: 2)
    }

    static func printJSON<Value: Encodable>(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
