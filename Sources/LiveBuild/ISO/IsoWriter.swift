import Foundation
import HostTools
import Logging

/// Turns a staging directory (`live/vmlinuz`, `live/initrd.img`, `live/filesystem.squashfs`)
/// into one hybrid ISO that boots four ways: BIOS and UEFI, each from CD and from the image
/// written raw to a disk or USB stick. See `IsoLayout` for what goes where.
///
/// Boot loaders come from the host's Debian packages (isolinux, syslinux-common,
/// grub-efi-amd64-bin); the tools are xorriso, grub-mkimage, mkfs.fat (dosfstools) and mtools.
/// The output depends only on the inputs: all dates come from `sourceDateEpoch`, volume ids
/// and GPT GUIDs are derived from the medium id and that date.
public struct IsoWriter: Sendable {
    public enum Error: Swift.Error, Sendable, CustomStringConvertible {
        case invalidMediumID(String)
        case missingStagedFile(String)
        case stagingConflict(String)
        case missingHostFile(path: String, package: String)
        case io(String, underlying: String)
        case tool(ToolRunner.Failure)

        public var description: String {
            switch self {
            case .invalidMediumID(let raw):
                "medium id \(raw.debugDescription) is invalid: use 1-32 letters, digits, '-' or '_'"
            case .missingStagedFile(let path):
                "the staging directory lacks \(path); the kernel, initramfs and squashfs stages must run first"
            case .stagingConflict(let path):
                "the staging directory already holds \(path), which the ISO writer creates itself; remove it"
            case .missingHostFile(let path, let package):
                "boot loader file \(path) is missing; install the Debian package '\(package)'"
            case .io(let what, let underlying):
                "\(what): \(underlying)"
            case .tool(let failure):
                failure.description
            }
        }
    }

    public var mediumID: MediumID
    public var bootMenu: BootMenu
    /// Seconds since 1970 used for every date in the image.
    public var sourceDateEpoch: Int64
    public var bootloaders: HostBootloaders
    public var tools: ToolRunner
    public var logger: Logger

    public init(
        mediumID: MediumID,
        bootMenu: BootMenu,
        sourceDateEpoch: Int64,
        bootloaders: HostBootloaders = .debian,
        tools: ToolRunner = ToolRunner(),
        logger: Logger = Logger(label: "livebuild.iso")
    ) {
        self.mediumID = mediumID
        self.bootMenu = bootMenu
        self.sourceDateEpoch = sourceDateEpoch
        self.bootloaders = bootloaders
        self.tools = tools.withSourceDateEpoch(sourceDateEpoch)
        self.logger = logger
    }

    /// Writes the ISO to `output`.
    ///
    /// The staging directory is only read. Boot loader files are assembled in a fresh
    /// directory under `workDirectory`, which is removed afterwards.
    public func write(stagingDirectory: String, to output: String, workDirectory: String) async throws(IsoWriter.Error) {
        try checkInputs(stagingDirectory: stagingDirectory)
        let bootTree = workDirectory + "/iso-boot"
        let fileManager = FileManager.default
        do {
            try? fileManager.removeItem(atPath: bootTree)
            try fileManager.createDirectory(atPath: bootTree, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(bootTree)", underlying: "\(error)")
        }
        defer { try? fileManager.removeItem(atPath: bootTree) }

        try writeBIOSFiles(into: bootTree)
        try await writeEFIFiles(into: bootTree, scratch: workDirectory)
        try writeFile(bootTree + "/" + IsoLayout.marker(for: mediumID), contents: mediumID.value + "\n")

        try? fileManager.removeItem(atPath: output)
        logger.info("writing ISO", metadata: ["output": "\(output)", "medium": "\(mediumID)"])
        do {
            try await tools.run("xorriso", xorrisoArguments(output: output, roots: [stagingDirectory, bootTree]))
        } catch {
            throw .tool(error)
        }
    }

    /// `xorriso -as mkisofs` arguments: BIOS El Torito (isolinux) + EFI El Torito (the ESP
    /// image), isohybrid MBR, and a GPT listing the ESP (`-isohybrid-gpt-basdat`). The trees in
    /// `roots` are merged at the ISO root. Dates are pinned explicitly (as SOURCE_DATE_EPOCH
    /// would) and the GPT disk GUID comes from the medium id, so media of different ids differ.
    public func xorrisoArguments(output: String, roots: [String]) -> [String] {
        [
            "-as", "mkisofs",
            "-o", output,
            "-iso-level", "3",
            "-full-iso9660-filenames",
            "-joliet", "-joliet-long",
            "-rational-rock",
            "-volid", mediumID.value,
            "-appid", "livebuild",
            "-publisher", "livebuild",
            "-preparer", "livebuild",
            "--modification-date=\(Self.isoDate(epoch: sourceDateEpoch))",
            // Every file and directory gets the epoch, whatever the staged files' mtimes.
            "--set_all_file_dates", Self.isoDate(epoch: sourceDateEpoch),
            "--gpt_disk_guid", gptDiskGUID(),
            "-isohybrid-mbr", bootloaders.isohybridMBR,
            "-eltorito-boot", IsoLayout.isolinuxBinary,
            "-eltorito-catalog", IsoLayout.bootCatalog,
            "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
            "-eltorito-alt-boot",
            "-e", IsoLayout.efiImage,
            "-no-emul-boot",
            "-isohybrid-gpt-basdat",
        ] + roots
    }

    // MARK: - Steps

    private func checkInputs(stagingDirectory: String) throws(IsoWriter.Error) {
        let fileManager = FileManager.default
        for file in IsoLayout.stagedFiles where !fileManager.fileExists(atPath: stagingDirectory + "/" + file) {
            throw .missingStagedFile(file)
        }
        for directory in IsoLayout.bootloaderDirectories where fileManager.fileExists(atPath: stagingDirectory + "/" + directory) {
            throw .stagingConflict(directory)
        }
        if fileManager.fileExists(atPath: stagingDirectory + "/" + IsoLayout.marker(for: mediumID)) {
            throw .stagingConflict(IsoLayout.marker(for: mediumID))
        }
        for (path, package) in bootloaders.requiredFiles() where !fileManager.fileExists(atPath: path) {
            throw .missingHostFile(path: path, package: package)
        }
    }

    private func writeBIOSFiles(into tree: String) throws(IsoWriter.Error) {
        let directory = tree + "/" + IsoLayout.isolinuxDirectory
        try copy(bootloaders.isolinuxBinary, to: tree + "/" + IsoLayout.isolinuxBinary)
        for module in BootMenu.isolinuxModules {
            try copy(bootloaders.syslinuxModules + "/" + module, to: directory + "/" + module)
        }
        try writeFile(tree + "/" + IsoLayout.isolinuxConfig, contents: bootMenu.isolinuxConfig())
    }

    // MARK: - File helpers

    func writeFile(_ path: String, contents: String) throws(IsoWriter.Error) {
        try makeParent(of: path)
        do {
            try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw .io("cannot write \(path)", underlying: "\(error)")
        }
    }

    func copy(_ source: String, to destination: String) throws(IsoWriter.Error) {
        try makeParent(of: destination)
        do {
            try? FileManager.default.removeItem(atPath: destination)
            try FileManager.default.copyItem(atPath: source, toPath: destination)
        } catch {
            throw .io("cannot copy \(source) to \(destination)", underlying: "\(error)")
        }
    }

    func makeParent(of path: String) throws(IsoWriter.Error) {
        let parent = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(parent)", underlying: "\(error)")
        }
    }
}
