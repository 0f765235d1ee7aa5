/// The installed packages of the image, from `/var/lib/dpkg/status`.
public enum DpkgStatus {
    public struct Package: Sendable, Equatable, Codable {
        public var name: String
        public var version: String
        public var architecture: String
    }

    /// Installed packages, sorted by name.
    public static func installed(_ status: String) -> [Package] {
        var packages: [Package] = []
        for stanza in status.split(separator: "\n\n") {
            var fields: [Substring: Substring] = [:]
            for line in stanza.split(separator: "\n") where !line.hasPrefix(" ") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon]] = line[line.index(after: colon)...].drop { $0 == " " }
            }
            guard let name = fields["Package"], let version = fields["Version"],
                  fields["Status"]?.hasSuffix(" installed") == true else { continue }
            packages.append(Package(name: String(name), version: String(version),
                                    architecture: String(fields["Architecture"] ?? "")))
        }
        return packages.sorted { $0.name < $1.name }
    }
}
