import ArgumentParser
import Foundation
import Qemu

extension BenchCommand {
    /// Power-on to login, phase by phase, for each way a hybrid ISO boots, beside a reference
    /// ISO booted with the same QEMU command lines (Docs/benchmarks.md, "Boot time").
    struct BootBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "boot",
            abstract: "Power-on to login, phase by phase (firmware, boot loader, kernel, live init, systemd), for each boot mode.",
            discussion: """
                Boots IMAGE (a hybrid ISO) in QEMU once per mode and run, one machine at a time, \
                with no network card, and reads the phases off the serial console: firmware until \
                the boot loader's banner, the boot loader (menu, timeout, loading) until the \
                kernel's first line, the kernel until /init, the live init until systemd's first \
                line, systemd until `login:`. Once a root shell is logged in on the console (as on \
                livebuild's images), systemd-analyze gives the kernel and userspace times, the \
                critical chain and the slowest units. With --reference, that ISO boots with the \
                same command lines right after each of IMAGE's boots, and the report gives the \
                ratio of the times to login; it must print to the serial console \
                (`console=ttyS0,115200` on its kernel command line). Console logs are kept in \
                --log-dir.
                """)

        @Argument(help: "The ISO to measure (e.g. out/cluster/cluster.iso).")
        var image: String

        @Option(help: "An ISO to boot the same way beside it (e.g. Debian live-build's, from `livebuild bench build --live-build`).")
        var reference: String?

        @Option(help: "Boot modes, comma-separated: bios-cd, bios-usb, uefi-cd, uefi-usb.")
        var modes = "bios-cd,bios-usb,uefi-cd,uefi-usb"

        @Option(help: "Boots per mode and image.")
        var runs = 1

        @Option(help: "Virtual CPUs.")
        var cpus = 2

        @Option(help: "Memory in MiB.")
        var memory = 2048

        @Option(help: "Seconds a boot may take to reach `login:`.")
        var timeout = 600

        @Option(help: "Directory for the console logs (default: a new directory under /tmp).")
        var logDir: String?

        @Flag(help: "Print JSON.")
        var json = false

        var selectedModes: [Qemu.BootMode] {
            modes.split(separator: ",").compactMap { Qemu.BootMode(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
        }

        func validate() throws {
            let names = modes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !names.isEmpty, selectedModes.count == names.count else {
                throw ValidationError("--modes \(modes): give some of \(Qemu.BootMode.allCases.map(\.rawValue).joined(separator: ", ")), comma-separated")
            }
            guard (1...20).contains(runs) else { throw ValidationError("--runs \(runs): give 1 to 20") }
            guard (1...16).contains(cpus) else { throw ValidationError("--cpus \(cpus): give 1 to 16") }
            guard (512...65536).contains(memory) else { throw ValidationError("--memory \(memory): give 512 to 65536 MiB (a live system holds its changes in RAM)") }
            guard (30...7200).contains(timeout) else { throw ValidationError("--timeout \(timeout): give 30 to 7200 seconds") }
            for (option, path) in [("IMAGE", image), ("--reference", reference)] {
                guard let path else { continue }
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw ValidationError("\(option) \(path) does not exist or is not readable; build an ISO with `livebuild make PROFILE`")
                }
            }
        }

        struct Boot: Codable {
            var image: String
            var run: Int
            var measurement: Qemu.BootMeasurement
        }

        struct Report: Codable {
            var cpus: Int
            var memoryMiB: Int
            var accelerator: String
            var boots: [Boot]
            /// Per mode: median time to login of IMAGE ÷ the reference's.
            var ratios: [String: Double]
        }

        func run() async throws {
            do {
                let directory = logDir ?? NSTemporaryDirectory() + "/livebuild-bench-boot-\(getpid())"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let accelerator = Qemu.Accelerator.probe()
                var report = Report(cpus: cpus, memoryMiB: memory, accelerator: accelerator.rawValue, boots: [], ratios: [:])
                let images = [("ours", image)] + (reference.map { [("reference", $0)] } ?? [])
                for mode in selectedModes {
                    for run in 1...runs {
                        for (label, path) in images {
                            let log = directory + "/\(mode.rawValue)-\(label)-\(run).log"
                            FileHandle.standardError.write(Data("boot: \(mode.rawValue), \(label) (\(path)), run \(run) of \(runs)\n".utf8))
                            let machine = try mode.machine(image: path, cpus: cpus, memoryMiB: memory, accelerator: accelerator)
                            let measurement = try await Qemu.measureBoot(mode: mode, machine: machine, consoleLog: log, timeout: .seconds(timeout))
                            report.boots.append(Boot(image: label, run: run, measurement: measurement))
                        }
                    }
                    if reference != nil {
                        let ours = Self.median(report.boots.filter { $0.image == "ours" && $0.measurement.mode == mode }.compactMap(\.measurement.timeline.total))
                        let theirs = Self.median(report.boots.filter { $0.image == "reference" && $0.measurement.mode == mode }.compactMap(\.measurement.timeline.total))
                        if let ours, let theirs, theirs > 0 { report.ratios[mode.rawValue] = ours / theirs }
                    }
                }
                if json {
                    try BenchCommand.printJSON(report)
                    return
                }
                print(Self.table(report))
                print("console logs: \(directory)")
            } catch {
                throw Failure.report(error)
            }
        }

        static func median(_ values: [Double]) -> Double? {
            guard !values.isEmpty else { return nil }
            return values.sorted()[values.count / 2]
        }

        /// The report as text: one row per boot, phases in seconds, then the ratios and, for
        /// each of IMAGE's modes, the critical chain of its first run.
        static func table(_ report: Report) -> String {
            func cell(_ value: Double?, width: Int = 9) -> String {
                (value.map { BenchCommand.fixed($0, places: 1) } ?? "-").padding(toLength: width, withPad: " ", startingAt: 0)
            }
            var lines = ["boot to login, \(report.accelerator), \(report.cpus) vCPUs, \(report.memoryMiB) MiB, no network; seconds",
                         "mode      image      run  firmware boot ldr kernel   init     systemd  login    guest kernel+init / userspace"]
            for boot in report.boots {
                let m = boot.measurement
                let phases = m.timeline.durations.map { cell($0.seconds) }.joined()
                let guest = m.kernelSeconds.map { BenchCommand.fixed($0, places: 1) + " / " + BenchCommand.fixed(m.userspaceSeconds ?? 0, places: 1) } ?? "-"
                lines.append(m.mode.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                             + boot.image.padding(toLength: 11, withPad: " ", startingAt: 0)
                             + String(boot.run).padding(toLength: 5, withPad: " ", startingAt: 0)
                             + phases + cell(m.timeline.total) + guest)
            }
            for (mode, ratio) in report.ratios.sorted(by: { $0.key < $1.key }) {
                lines.append("\(mode): ours / reference, time to login (median) = \(BenchCommand.fixed(ratio, places: 2))")
            }
            for boot in report.boots where boot.image == "ours" && boot.run == 1 {
                guard let chain = boot.measurement.criticalChain else { continue }
                lines.append("")
                lines.append("\(boot.measurement.mode.rawValue): systemd-analyze critical-chain")
                lines.append(chain)
                if let blame = boot.measurement.blame {
                    lines.append("slowest units: " + blame.prefix(6).joined(separator: ", "))
                }
            }
            return lines.joined(separator: "\n")
        }
    }
}
