import ArgumentParser
import Foundation
import LiveBuild
import Logging

struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what is inside an image without booting it.",
        discussion: """
            IMAGE is an ISO, a disk image (.img or .qcow2), a squashfs, or a PXE tree (the pxe/ \
            directory of a build). Shows the medium id, profile, system, kernel, packages and \
            versions, boot entries, node configuration (secrets masked; the cluster key only by \
            its fingerprint) and sizes. Disk images are read through libguestfs, read-only.
            """
    )

    @Argument(help: "The image: ISO, disk image, squashfs or PXE tree directory.")
    var image: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        do {
            let inspection = try await Inspector(logger: Logger(label: "livebuild.inspect")).inspect(image)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                FileHandle.standardOutput.write(try encoder.encode(inspection) + Data("\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data(inspection.text().utf8))
            }
        } catch {
            throw Failure.report(error)
        }
    }
}
