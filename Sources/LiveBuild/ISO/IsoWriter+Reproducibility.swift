import Crypto
import Foundation

/// Everything that pins the image's bytes: dates from `sourceDateEpoch`, identifiers from the
/// medium id. Two runs on the same inputs give the same ISO.
extension IsoWriter {
    /// Sets `path` and, for a directory, everything under it to `sourceDateEpoch`, since
    /// `mcopy -m` carries source mtimes into the FAT image of the ESP.
    func fixDates(under path: String) throws(IsoWriter.Error) {
        let fileManager = FileManager.default
        let date = Date(timeIntervalSince1970: TimeInterval(sourceDateEpoch))
        let paths = ((fileManager.subpaths(atPath: path) ?? []).map { path + "/" + $0 }) + [path]
        for item in paths {
            do {
                try fileManager.setAttributes([.modificationDate: date], ofItemAtPath: item)
            } catch {
                throw .io("cannot set the date of \(item)", underlying: "\(error)")
            }
        }
    }

    /// FAT volume serial: the first 32 bits of SHA-256(medium id), in hex.
    func espVolumeID() -> String {
        SHA256.hash(data: Data(mediumID.value.utf8)).prefix(4).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    /// GPT disk GUID: SHA-256(medium id) shaped as an RFC 4122 version 4 GUID. xorriso derives
    /// the partition GUIDs from it.
    func gptDiskGUID() -> String {
        var bytes = Array(SHA256.hash(data: Data(("livebuild-gpt:" + mediumID.value).utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    /// `epoch` as xorriso's `YYYYMMDDhhmmsscc` (UTC).
    static func isoDate(epoch: Int64) -> String {
        var time = time_t(epoch)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)" + two(parts.tm_mon + 1) + two(parts.tm_mday)
            + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec) + "00"
    }
}
