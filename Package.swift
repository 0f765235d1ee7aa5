// swift-tools-version: 6.1
//
// livebuild: turns a declarative JSON profile into bootable live systems.
//
// Build side (this package, runs on the build host):
//   Filesystem   plain-value model of a filesystem entry stream (no C, no I/O)
//   Archive      libarchive wrappers: tar/cpio/raw readers and writers
//   Squashfs     libsquashfs wrappers: the in-process squashfs writer
//   Guestfs      libguestfs wrappers: partitions, filesystems and files of disk images
//   Profile      the JSON profile: parsing with positions, validation, `extends`
//   HostTools    runs host tools (xorriso, mkfs.fat, ip, ...) with a fixed environment; failures carry stderr
//   Qemu         QEMU command lines, KVM probe, VM runner, guest-agent client
//   LiveBuild    the build stages and the pipeline that chains them
//   VirtualCluster  N QEMU nodes on a private network in a namespace: plan, up, exec, down
//   LoopbackHarness real clusterd processes on 127.0.0.1: the loopback tests, `livebuild bench membership`
//   Benchmarks   `livebuild bench`: builds, squashfs, membership, migration and PXE boots
//   livebuild    the command line (thin)
//
// Node side (runs inside the images; FoundationEssentials-level API only, static stdlib):
//   ClusterWire    the wire format: messages, AEAD envelopes, replay windows
//   Membership     the SWIM membership state machine (pure)
//   NodeConfig     node configuration precedence and node identity (pure)
//   Admission      admitting a node that boots without the key: requests, the head's book, HPKE sealing (pure)
//   ClusterControl the control-socket protocol and its client
//   Processes      child processes: the one posix_spawn, and the reaper
//   Jobs           migratable jobs on one node: PID namespaces, output files, records
//   Migration      CRIU command lines, the migration protocol's messages, image directories
//   Balancer       the load-balancing policy: where a job should run (pure)
//   ClusterSimulator  a simulated cluster (1,000 nodes) running Membership and Balancer on a fake clock
//   BootServer     a PXE tree served: HTTP (SwiftNIO) and dnsmasq; `clusterd serve-boot`, `livebuild serve`
//   Agent          clusterd's I/O: UDP/multicast and control sockets (SwiftNIO), /proc, services
//   clusterd       the node agent; cluster, its command line (both thin)
//
// Fuzzing (Docs/security.md, "Fuzzing"; `make fuzz`):
//   FuzzTargets    one function per decoder that reads bytes from the network; never crashes
//   livebuild-fuzz replays files through them; built with -DFUZZING, it is the libFuzzer binary
import PackageDescription

let package = Package(
    name: "livebuild",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "livebuild", targets: ["livebuild"]),
        .executable(name: "clusterd", targets: ["clusterd"]),
        .executable(name: "cluster", targets: ["cluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // C libraries, through pkg-config; the apt provider names the Debian package.
        .systemLibrary(
            name: "CArchive",
            pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]
        ),
        .systemLibrary(
            name: "CSquashfs",
            pkgConfig: "libsquashfs1",
            providers: [.apt(["libsquashfs-dev"])]
        ),
        // libguestfs: disk images built and read through its appliance, as an ordinary user.
        .systemLibrary(
            name: "CGuestfs",
            pkgConfig: "libguestfs",
            providers: [.apt(["libguestfs-dev"])]
        ),
        // LZO for squashfs: libsquashfs (LGPL) leaves it out, so Squashfs supplies it on liblzo2 (GPL).
        .systemLibrary(
            name: "CLzo",
            pkgConfig: "lzo2",
            providers: [.apt(["liblzo2-dev"])]
        ),

        .target(name: "Filesystem"),
        .target(name: "Archive", dependencies: ["CArchive", "Filesystem"]),
        .target(name: "Squashfs", dependencies: ["CSquashfs", "CLzo", "Filesystem"]),
        .target(name: "Profile", dependencies: ["NodeConfig"]),
        // Decides KVM or TCG for its appliance through Qemu's probe (libguestfs runs QEMU).
        .target(name: "Guestfs", dependencies: ["CGuestfs", "Qemu", .product(name: "Logging", package: "swift-log")]),
        .target(name: "ClusterWire", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Membership", dependencies: ["ClusterWire"]),
        .target(name: "NodeConfig", dependencies: ["NodeError"]),
        .target(name: "ClusterControl", dependencies: ["NodeError"]),
        .target(name: "Balancer"),
        .target(name: "Migration", dependencies: ["CJobs", "Jobs"]),
        // prctl (variadic) and posix_spawn_file_actions_addchdir_np (_GNU_SOURCE) for Processes,
        // and Jobs' per-thread file-system identity.
        .target(name: "CJobs"),
        // The node side's one error type: a code, a sentence, the cause.
        .target(name: "NodeError"),
        .target(name: "Processes", dependencies: ["CJobs", "NodeError"]),
        .target(name: "Jobs", dependencies: ["CJobs", "Processes", "NodeError", .product(name: "Logging", package: "swift-log")]),
        .target(name: "ClusterSimulator", dependencies: ["Balancer", "Membership", "ClusterWire"]),
        .target(name: "Admission", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Agent", dependencies: [
            "Admission", "ClusterWire", "Membership", "NodeConfig", "ClusterControl", "Jobs", "CJobs", "Migration", "Balancer", "Processes", "NodeError",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "clusterd", dependencies: [
            "Admission", "Agent", "ClusterWire", "NodeConfig", "BootServer", "Jobs",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "cluster", dependencies: [
            "ClusterControl",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "Qemu", dependencies: [
            "Processes",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Host tools (xorriso, mkfs.fat, ip, ...) run with a fixed environment; failures carry stderr.
        .target(name: "HostTools", dependencies: [
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        .target(name: "LiveBuild", dependencies: [
            "Filesystem", "Archive", "Squashfs", "Profile", "NodeConfig", "ClusterWire", "Guestfs", "HostTools",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "VirtualCluster", dependencies: [
            "Qemu", "HostTools", "ClusterControl",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Real clusterd processes on 127.0.0.1: the loopback test tier and `livebuild bench membership`.
        .target(name: "LoopbackHarness", dependencies: ["ClusterControl", "ClusterWire", "Processes"]),
        // `livebuild bench`: builds, squashfs, membership (loopback and QEMU), migration, PXE boots.
        .target(name: "Benchmarks", dependencies: [
            "LiveBuild", "Archive", "Squashfs", "Profile", "ClusterControl", "VirtualCluster", "LoopbackHarness", "HostTools",
            "Agent", "ClusterWire",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        // Serves a PXE tree: an HTTP file server on SwiftNIO's HTTP codec, and dnsmasq's
        // DHCP and TFTP settings (`livebuild serve`; the head node's agent later).
        .target(name: "BootServer", dependencies: [
            "Processes", "CJobs", "ClusterControl", "NodeError",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // Every decoder that reads bytes from the network, as functions of bytes (`make fuzz`).
        .target(name: "FuzzTargets", dependencies: [
            "Admission", "ClusterWire", "ClusterControl", "Migration", "Jobs", "BootServer",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // libFuzzer's LLVMFuzzerRunDriver, declared for the fuzz build (defined only there).
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "livebuild-fuzz", dependencies: ["FuzzTargets", "CFuzzerDriver"]),
        .executableTarget(name: "livebuild", dependencies: [
            "LiveBuild", "Profile", "NodeConfig", "Squashfs", "Qemu", "VirtualCluster", "Benchmarks", "Balancer", "ClusterSimulator", "BootServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Shared by the test tiers: the image fixtures (each profile built once per run) and a
        // runner for reference tools.
        .target(name: "TestSupport", dependencies: [
            "LiveBuild", "Profile",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/TestSupport"),

        // Test tiers, each runnable alone with `swift test --filter <Target>`.
        // Unit tests of the node side (agent, protocols, jobs, migration): they build without
        // the build side's C libraries.
        .testTarget(name: "NodeUnitTests", dependencies: [
            "Admission", "Agent", "Balancer", "BootServer", "ClusterSimulator", "ClusterControl", "ClusterWire", "FuzzTargets",
            "Jobs", "Membership", "Migration", "NodeConfig", "NodeError", "Processes",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["CRIUImages"]),
        .testTarget(name: "UnitTests", dependencies: [
            "Filesystem", "Archive", "Squashfs", "Profile", "Qemu", "LiveBuild",
            "ClusterWire", "Membership", "NodeConfig", "ClusterControl", "Agent", "VirtualCluster",
            "Balancer", "ClusterSimulator", "Jobs", "Processes", "NodeError", "Migration", "BootServer", "Admission", "FuzzTargets", "Benchmarks",
            .product(name: "Logging", package: "swift-log"),
        ], resources: [.copy("Golden")]),
        .testTarget(name: "InteropTests", dependencies: [
            "Filesystem", "Archive", "Squashfs", "LiveBuild", "HostTools", "Profile", "TestSupport", "ClusterWire", "BootServer",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "LoopbackTests", dependencies: [
            "BootServer", "ClusterControl", "ClusterWire", "LiveBuild", "LoopbackHarness", "TestSupport", "Migration", "Jobs",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "VMTests", dependencies: [
            "LiveBuild", "HostTools", "Qemu", "ClusterControl", "TestSupport", "VirtualCluster", "Benchmarks",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
