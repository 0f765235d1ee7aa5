import Foundation
import HostTools
import Testing
@testable import LiveBuild

/// Builds ISOs from a tiny staging tree and reads them back with xorriso.
@Suite struct IsoInteropTests {
    /// A scratch directory removed when the test ends.
    final class Scratch {
        let path: String
        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("livebuild-iso-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static let epoch: Int64 = 1_700_000_000

    static func writer() throws -> IsoWriter {
        IsoWriter(
            mediumID: try MediumID("livebuild-1a2b3c4d"),
            bootMenu: try BootMenu(
                title: "Interop test",
                timeoutSeconds: 3,
                entries: [.init(label: "Live", kernelCommandLine: "console=ttyS0,115200")]),
            sourceDateEpoch: epoch)
    }

    /// live/{vmlinuz,initrd.img,filesystem.squashfs} with fixed contents and dates.
    static func makeStaging(in scratch: Scratch) throws -> String {
        let staging = scratch.path + "/staging"
        try FileManager.default.createDirectory(atPath: staging + "/live", withIntermediateDirectories: true)
        for (index, file) in IsoLayout.stagedFiles.enumerated() {
            let bytes = Data((0..<(64 << 10)).map { UInt8(truncatingIfNeeded: $0 &* (index + 7)) })
            try bytes.write(to: URL(fileURLWithPath: staging + "/" + file))
        }
        let date = Date(timeIntervalSince1970: TimeInterval(epoch))
        for path in [staging, staging + "/live"] + IsoLayout.stagedFiles.map({ staging + "/" + $0 }) {
            try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
        }
        return staging
    }

    static func report(_ iso: String) async throws -> String {
        let output = try await ToolRunner().run("xorriso", [
            "-indev", iso, "-report_el_torito", "plain", "-report_system_area", "plain",
        ])
        return output.standardOutput
    }

    @Test func hybridImageHasBIOSAndUEFIBootAndMBRAndGPT() async throws {
        let scratch = try Scratch()
        let staging = try Self.makeStaging(in: scratch)
        let iso = scratch.path + "/live.iso"
        try await Self.writer().write(stagingDirectory: staging, to: iso, workDirectory: scratch.path + "/work")

        let report = try await Self.report(iso)
        let bootImages = report.split(separator: "\n").filter { $0.hasPrefix("El Torito boot img :") }
        #expect(bootImages.contains { $0.contains(" BIOS ") }, "no BIOS El Torito entry:\n\(report)")
        #expect(bootImages.contains { $0.contains(" UEFI ") }, "no UEFI El Torito entry:\n\(report)")
        #expect(report.contains("El Torito img path :   1  /isolinux/isolinux.bin"), "\(report)")
        #expect(report.contains("El Torito img path :   2  /boot/grub/efiboot.img"), "\(report)")
        #expect(report.contains("System area summary: MBR isohybrid"), "\(report)")
        #expect(report.contains("GPT"), "no GPT:\n\(report)")
        // The ESP is listed in the MBR as type 0xef, so UEFI firmware booting the stick finds it.
        #expect(report.split(separator: "\n").contains { $0.hasPrefix("MBR partition      :") && $0.contains("0xef") }, "\(report)")
        #expect(!FileManager.default.fileExists(atPath: staging + "/isolinux"), "the staging directory must stay untouched")
    }

    @Test func imageHoldsTheLayoutAndTheMarker() async throws {
        let scratch = try Scratch()
        let staging = try Self.makeStaging(in: scratch)
        let iso = scratch.path + "/live.iso"
        let writer = try Self.writer()
        try await writer.write(stagingDirectory: staging, to: iso, workDirectory: scratch.path + "/work")
        let listing = try await ToolRunner().run("xorriso", ["-indev", iso, "-find", "/", "-type", "f"]).standardOutput
        for path in IsoLayout.stagedFiles + [
            IsoLayout.marker(for: writer.mediumID), IsoLayout.isolinuxBinary, IsoLayout.isolinuxConfig,
            IsoLayout.grubConfig, IsoLayout.efiImage, IsoLayout.efiLoader, "isolinux/ldlinux.c32", "isolinux/menu.c32",
        ] {
            #expect(listing.contains("'/\(path)'"), "missing /\(path) in:\n\(listing)")
        }
        let volume = try await ToolRunner().run("xorriso", ["-indev", iso, "-pvd_info"]).standardOutput
        #expect(volume.contains("Volume Id    : LIVEBUILD-1A2B3C4D"), "\(volume)")
    }

    @Test func twoBuildsAreByteIdentical() async throws {
        let scratch = try Scratch()
        let staging = try Self.makeStaging(in: scratch)
        var images: [Data] = []
        for run in 1...2 {
            let iso = scratch.path + "/live-\(run).iso"
            try await Self.writer().write(stagingDirectory: staging, to: iso, workDirectory: scratch.path + "/work-\(run)")
            let data = try Data(contentsOf: URL(fileURLWithPath: iso))
            images.append(data)
            if run == 1 { try await Task.sleep(for: .milliseconds(2100)) }  // past FAT's 2 s date resolution
        }
        #expect(images[0].count == images[1].count)
        #expect(images[0] == images[1], "two builds from the same inputs differ")
    }

    @Test func missingStagedFileIsReported() async throws {
        let scratch = try Scratch()
        let staging = try Self.makeStaging(in: scratch)
        try FileManager.default.removeItem(atPath: staging + "/" + IsoLayout.initrd)
        await #expect(throws: IsoWriter.Error.self) {
            try await Self.writer().write(stagingDirectory: staging, to: scratch.path + "/x.iso", workDirectory: scratch.path + "/work")
        }
    }

    @Test func datesAndGUIDsComeFromTheInputs() async throws {
        let scratch = try Scratch()
        let staging = try Self.makeStaging(in: scratch)
        let iso = scratch.path + "/live.iso"
        let writer = try Self.writer()
        try await writer.write(stagingDirectory: staging, to: iso, workDirectory: scratch.path + "/work")
        let pvd = try await ToolRunner().run("xorriso", ["-indev", iso, "-pvd_info"]).standardOutput
        #expect(pvd.contains("Creation Time: 2023111422132000"), "\(pvd)")
        #expect(pvd.contains("Modif. Time  : 2023111422132000"), "\(pvd)")
        #expect(IsoWriter.isoDate(epoch: Self.epoch) == "2023111422132000")

        var other = writer
        other.mediumID = try MediumID("LIVEBUILD-OTHER")
        #expect(writer.gptDiskGUID() != other.gptDiskGUID())
        #expect(writer.gptDiskGUID().count == 36)
        #expect(writer.gptDiskGUID().split(separator: "-")[2].hasPrefix("4"))
    }
}
