import ArgumentParser
import Foundation
import Profile

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a profile without building it."
    )

    @Argument(help: "The profile (JSON).")
    var profile: String

    @Flag(help: "Print the merged profile as canonical JSON.")
    var print = false

    func run() async throws {
        do {
            let loaded = try ProfileLoader.load(path: profile)
            if print {
                FileHandle.standardOutput.write(Data((loaded.canonicalJSON() + "\n").utf8))
            } else {
                FileHandle.standardOutput.write(Data("\(profile): ok (\(loaded.name), base \(loaded.base.kind), \(loaded.sources.count) file(s))\n".utf8))
            }
        } catch {
            throw Failure.report(error)
        }
    }
}
