/// dnsmasq as the PXE boot server of a tree: DHCP (a full server, or proxy DHCP beside the
/// site's own server) and TFTP, no DNS. iPXE (QEMU's NIC ROM, or iPXE chained) is told
/// `boot.ipxe`; firmware PXE gets PXELINUX on BIOS and the network GRUB on UEFI (full DHCP), or
/// PXELINUX and iPXE's `snponly.efi` (proxy DHCP: GRUB 2.06 cannot boot from a proxy offer).
/// Docs/pxe.md shows the same settings as a configuration file.
public struct DnsmasqConfiguration: Sendable, Hashable {
    public enum Mode: Sendable, Hashable {
        /// Hands out addresses from `first` to `last` on an isolated cluster LAN.
        case full(first: String, last: String, netmask: String)
        /// Only the PXE part: another server hands out addresses on `network`; `server` is this
        /// host's address there (the TFTP server named in the proxy offers).
        case proxy(network: String, server: String)
    }

    public var interface: String
    public var tftpRoot: String
    public var mode: Mode
    public var leaseFile: String
    public var pidFile: String
    /// Whether the tree has iPXE's `snponly.efi` for UEFI machines in proxy mode.
    public var hasIPXEForUEFI: Bool
    /// dnsmasq's `--log-facility`: `-` for stderr (a terminal), a syslog facility such as
    /// `DAEMON` for the journal.
    public var logFacility = "-"

    public init(interface: String, tftpRoot: String, mode: Mode, leaseFile: String, pidFile: String, hasIPXEForUEFI: Bool) {
        self.interface = interface
        self.tftpRoot = tftpRoot
        self.mode = mode
        self.leaseFile = leaseFile
        self.pidFile = pidFile
        self.hasIPXEForUEFI = hasIPXEForUEFI
    }

    /// dnsmasq's command line (without the program): nothing read from the host's own
    /// configuration, bound to `interface` alone, in the foreground, logging to stderr.
    public func arguments() -> [String] {
        var arguments = [
            "--conf-file=/dev/null", "--no-hosts", "--no-resolv", "--port=0",
            "--keep-in-foreground", "--log-facility=\(logFacility)", "--log-dhcp",
            "--bind-interfaces", "--interface=\(interface)", "--except-interface=lo",
            "--pid-file=\(pidFile)", "--dhcp-leasefile=\(leaseFile)",
            "--enable-tftp", "--tftp-root=\(tftpRoot)",
            // iPXE says so in its user class: it gets the script, not a loader again.
            "--dhcp-userclass=set:ipxe,iPXE",
        ]
        switch mode {
        case .full(let first, let last, let netmask):
            arguments += [
                "--dhcp-range=\(first),\(last),\(netmask),12h",
                "--dhcp-authoritative",
                // No router: a cluster LAN need not lead anywhere.
                "--dhcp-option=option:router",
                "--dhcp-match=set:efi64,option:client-arch,7",
                "--dhcp-match=set:efi64,option:client-arch,9",
                "--dhcp-boot=tag:ipxe,boot.ipxe",
                "--dhcp-boot=tag:efi64,tag:!ipxe,grubx64.efi",
                "--dhcp-boot=tag:!efi64,tag:!ipxe,lpxelinux.0",
            ]
        case .proxy(let network, let server):
            arguments += [
                "--dhcp-range=\(network),proxy",
                "--pxe-service=tag:!ipxe,x86PC,livebuild (BIOS),lpxelinux",
                // The server address puts it in the offer's next-server field. Without it,
                // legacy iPXE (QEMU's SeaBIOS ROM) finds no PXE options in the proxy offer, asks
                // again on port 4011, drops the answer for the same reason and boots nothing.
                "--dhcp-boot=tag:ipxe,boot.ipxe,,\(server)",
            ]
            if hasIPXEForUEFI {
                arguments.append("--pxe-service=tag:!ipxe,x86-64_EFI,livebuild (UEFI),snponly.efi")
            }
        }
        return arguments
    }
}
