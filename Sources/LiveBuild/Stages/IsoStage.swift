import Foundation
import Logging
import Profile

/// Stage e: the hybrid ISO. Stages the live files (hard links, no copies) and hands them to
/// `IsoWriter` with the boot menu rendered from the profile.
struct IsoStage {
    var profile: Profile
    var mediumID: String
    var squashfsSHA256: String
    var sourceDateEpoch: Int64
    var logger: Logger
    /// The cluster key's image (``ClusterKeyImage``), for a cluster profile: on the ISO outside
    /// live/ and the PXE tree, loaded by the ISO's own menus only.
    var keyImage: String? = nil

    /// The boot menu: one entry per `boot.entries`, each with `kernel.cmdline` plus its own.
    func bootMenu() throws -> BootMenu {
        let entries = profile.boot.entries.map { entry in
            BootMenu.Entry(label: entry.label, kernelCommandLine: (profile.kernel.cmdline + entry.cmdline).joined(separator: " "))
        }
        let serial = profile.boot.serial.map { BootMenu.SerialConsole(unit: $0.port, speed: $0.speed) } ?? BootMenu.SerialConsole()
        do {
            return try BootMenu(title: profile.description ?? profile.name, timeoutSeconds: profile.boot.timeout,
                                entries: entries, serial: serial)
        } catch {
            throw LiveBuildError(code: .profile, message: "boot: \(error)", underlying: error)
        }
    }

    func write(live: String, staging: String, to iso: String, workDirectory: String) async throws {
        let fileManager = FileManager.default
        try? fileManager.removeItem(atPath: staging)
        try fileManager.createDirectory(atPath: staging + "/live", withIntermediateDirectories: true)
        for name in ["vmlinuz", "initrd.img", "filesystem.squashfs"] {
            try fileManager.linkItem(atPath: live + "/" + name, toPath: staging + "/live/" + name)
        }
        defer { try? fileManager.removeItem(atPath: staging) }
        if profile.cluster != nil {
            // A cluster node booted from this ISO can be the head: it serves its own medium
            // over TFTP and HTTP, so the medium carries the PXE loaders and menus too (Docs/pxe.md).
            try await PxeStage(menu: try bootMenu(), pxe: profile.pxe, squashfsSHA256: squashfsSHA256, sourceDateEpoch: sourceDateEpoch)
                .write(live: live, to: staging, scratch: workDirectory + "/pxe", linkLive: false)
        }
        var menu = try bootMenu()
        if let keyImage {
            try fileManager.createDirectory(atPath: staging + "/livebuild", withIntermediateDirectories: true)
            try fileManager.copyItem(atPath: keyImage, toPath: staging + "/" + ClusterKeyImage.path)
            menu.mediaInitrds = [ClusterKeyImage.path]
        }
        do {
            let writer = IsoWriter(mediumID: try MediumID(mediumID), bootMenu: menu,
                                   sourceDateEpoch: sourceDateEpoch, logger: logger)
            try await writer.write(stagingDirectory: staging, to: iso, workDirectory: workDirectory)
        } catch {
            throw LiveBuildError(code: .tool, message: "writing the ISO failed: \(error)", underlying: error)
        }
    }
}
