import ArgumentParser
import Foundation
import Qemu

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Boot an image in QEMU with its console on this terminal.",
        discussion: "Uses KVM when it works (a short probe boot decides; LIVEBUILD_ACCEL=tcg|kvm overrides), otherwise TCG. The serial console is on this terminal and logged; Ctrl-A x quits, Ctrl-A c reaches the QEMU monitor."
    )

    @Argument(help: "The image: an ISO (or a raw disk image with --usb).")
    var image: String

    @Flag(help: "Boot with UEFI firmware (OVMF) instead of BIOS (SeaBIOS).")
    var uefi = false

    @Flag(help: "Attach the image as a USB stick instead of a CD.")
    var usb = false

    @Option(help: "Memory in MiB.")
    var memory = 2048

    @Option(help: "Virtual CPUs.")
    var cpus = 2

    @Option(help: "Where to keep the console log (default: a file beside the image).")
    var consoleLog: String?

    func validate() throws {
        guard FileManager.default.isReadableFile(atPath: image) else {
            throw ValidationError("\(image) does not exist or is not readable")
        }
        guard memory >= 256 else { throw ValidationError("--memory \(memory): give at least 256 MiB") }
        guard (1...64).contains(cpus) else { throw ValidationError("--cpus \(cpus): give 1 to 64") }
    }

    func run() async throws {
        do {
            let firmware: Qemu.Firmware = uefi ? .uefi(try Qemu.OVMF.installed()) : .bios
            let medium: Qemu.Medium = usb ? .usbStick(image) : .cdrom(image)
            let accelerator = Qemu.Accelerator.probe()
            let machine = Qemu.Machine(memoryMiB: memory, cpus: cpus, firmware: firmware, media: [medium], accelerator: accelerator)
            let log = consoleLog ?? image + ".console.log"
            FileHandle.standardError.write(Data("livebuild: booting \(image) (\(uefi ? "UEFI" : "BIOS"), \(usb ? "USB stick" : "CD"), \(accelerator.rawValue)); console log \(log)\n".utf8))
            let vm = try Qemu.VM(machine: machine, consoleLog: log, interactive: true)
            let status = try await vm.waitForExit()
            if let status, status != 0 { throw ExitCode(status) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Failure.report(error)
        }
    }
}
