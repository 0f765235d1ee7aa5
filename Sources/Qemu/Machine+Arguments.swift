import Foundation

extension Qemu.Machine {
    /// The `qemu-system-x86_64` arguments (without the program name) for this machine.
    ///
    /// Pure: depends only on `self` and `session`. Without `network` no network device is
    /// created (`-nic none`).
    public func arguments(session: Qemu.Session) -> [String] {
        var args: [String] = [
            "-no-user-config",
            "-machine", "q35,accel=\(accelerator.rawValue)",
            "-cpu", accelerator.cpuModel,
            "-m", String(memoryMiB),
            "-smp", String(cpus),
            "-display", "none",
        ]
        if network.isEmpty { args += ["-nic", "none"] }
        args += ["-parallel", "none"]
        if exitOnReboot { args.append("-no-reboot") }
        if let serial = smbiosSerial { args += ["-smbios", "type=1,serial=\(Self.escape(serial))"] }
        if let pidFile = session.daemonPidFile { args += ["-daemonize", "-pidfile", pidFile] }

        switch firmware {
        case .bios:
            break
        case .uefi(let ovmf):
            args += ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=\(Self.escape(ovmf.code))"]
            if let vars = session.uefiVars {
                args += ["-drive", "if=pflash,format=raw,unit=1,file=\(Self.escape(vars))"]
            } else {
                args += ["-drive", "if=pflash,format=raw,unit=1,snapshot=on,file=\(Self.escape(ovmf.varsTemplate))"]
            }
        }

        let log = Self.escape(session.consoleLog)
        if session.consoleOnTerminal {
            args += [
                "-chardev", "stdio,id=console,mux=on,signal=off,logfile=\(log),logappend=off",
                "-serial", "chardev:console",
                "-mon", "chardev=console,mode=readline",
            ]
        } else if let socket = session.consoleSocket {
            args += [
                "-chardev", "socket,id=console,path=\(Self.escape(socket)),server=on,wait=off,logfile=\(log),logappend=off",
                "-serial", "chardev:console",
                "-monitor", "none",
            ]
        } else {
            args += [
                "-chardev", "file,id=console,path=\(log)",
                "-serial", "chardev:console",
                "-monitor", "none",
            ]
        }
        if let qmp = session.qmpSocket {
            args += ["-qmp", "unix:\(Self.escape(qmp)),server=on,wait=off"]
        }
        if let agent = session.guestAgentSocket {
            args += Qemu.GuestAgentChannel.arguments(socket: agent)
        }
        for interface in network {
            args += interface.arguments()
        }

        if media.contains(where: { $0.attachment == .usbStick }) {
            args += ["-device", "qemu-xhci,id=xhci"]
        }
        if let direct = directKernel {
            args += ["-kernel", direct.kernel, "-initrd", direct.initramfs, "-append", direct.commandLine]
        }
        // A directly booted kernel takes boot index 0 itself.
        let firstIndex = directKernel == nil ? 0 : 1
        for (index, medium) in media.enumerated() {
            args += medium.arguments(bootIndex: firstIndex + index)
        }
        return args + extraArguments
    }

    /// QEMU option values separate key=value pairs with commas; a literal comma is doubled.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: ",", with: ",,")
    }
}

extension Qemu.Medium {
    func arguments(bootIndex: Int) -> [String] {
        let drive = "\(id)-drive"
        var driveOptions = "if=none,id=\(drive),format=\(format),file=\(Qemu.Machine.escape(path))"
        if attachment == .cdrom { driveOptions += ",media=cdrom" }
        if readOnly { driveOptions += ",readonly=on" }
        let device: String
        switch attachment {
        case .cdrom: device = "ide-cd,id=\(id),drive=\(drive)"
        case .usbStick: device = "usb-storage,id=\(id),drive=\(drive),bus=xhci.0,removable=on"
        case .virtioDisk: device = "virtio-blk-pci,id=\(id),drive=\(drive)"
        }
        return ["-drive", driveOptions, "-device", "\(device),bootindex=\(bootIndex)"]
    }
}
