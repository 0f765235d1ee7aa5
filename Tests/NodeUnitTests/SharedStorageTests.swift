import ClusterWire
import Foundation
import Testing
@testable import Agent

/// Which job directories are on storage every node sees (placement's first condition).
@Suite struct SharedStorageTests {
    @Test(arguments: [
        ("/home/ann/sweep", "/home", true),
        ("/home", "/home", true),
        ("/home/", "/home", false),
        ("/homework", "/home", false),
        ("/home/ann/../../etc", "/home", false),
        ("/home//ann", "/home", false),
        ("/home/./ann", "/home", false),
        ("home/ann", "/home", false),
        ("/srv/x", "/", true),
        ("/home/ann", "/home/", true),
    ])
    func contains(_ path: String, _ directory: String, _ expected: Bool) {
        #expect(Agent.SharedStorage.contains(path, in: directory) == expected)
    }

    /// /proc files report size 0; FileManager read only their first 4,096 bytes, which cut a
    /// node's mountinfo before its NFS /home (found on the virtual cluster).
    @Test func procFilesAreReadToTheirEnd() throws {
        let maps = try #require(Agent.HostFacts.text("/proc/self/maps"))
        #expect(maps.utf8.count > 4096 && maps.hasSuffix("[vsyscall]"), "\(maps.utf8.count) bytes, ending \(maps.suffix(40))")
    }

    @Test func aNodeCountsItsShareOnlyOnceItsNFSMountIsThere() throws {
        let root = NSTemporaryDirectory() + "/livebuild-shared-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/run/clusterd", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/proc/self", withIntermediateDirectories: true)
        let settings = Agent.Settings(
            nodeID: Wire.NodeID(1), hostname: "a", clusterName: "c", role: .node, listenHost: "127.0.0.1", port: 1,
            advertiseHost: nil, interfaceMAC: nil, peers: [], multicastGroup: nil, clusterKey: [], controlSocket: "/x",
            controlGroup: nil, membership: .init(), report: [])
        func write(_ text: String, _ path: String) throws { try text.write(toFile: root + path, atomically: true, encoding: .utf8) }

        try write("mount 10.0.0.1 /home\n", "/run/clusterd/share")
        try write("22 1 0:21 / /proc rw,nosuid - proc proc rw\n", "/proc/self/mountinfo")
        #expect(Agent.SharedStorage.directory(settings: settings, root: root) == nil, "not mounted yet")
        try write("22 1 0:21 / /proc rw - proc proc rw\n40 22 0:40 / /home rw,relatime shared:1 - nfs4 10.0.0.1:/home rw,vers=4.2\n", "/proc/self/mountinfo")
        #expect(Agent.SharedStorage.directory(settings: settings, root: root) == "/home")
        try write("40 22 0:40 / /home rw,relatime - tmpfs tmpfs rw\n", "/proc/self/mountinfo")
        #expect(Agent.SharedStorage.directory(settings: settings, root: root) == nil, "a tmpfs at /home is this node's own")
        try write("export /home\n", "/run/clusterd/share")
        #expect(Agent.SharedStorage.directory(settings: settings, root: root) == "/home", "the head exports it")
        try write("40 22 0:40 / /mnt/my\\040share rw - nfs 10.0.0.1:/x rw\n", "/proc/self/mountinfo")
        #expect(Agent.SharedStorage.isNetworkMount("/mnt/my share", mountinfo: try String(contentsOfFile: root + "/proc/self/mountinfo", encoding: .utf8)))
        var named = settings
        named.sharedDirectory = "/scratch"
        #expect(Agent.SharedStorage.directory(settings: named, root: root) == "/scratch", "named on the command line: taken on trust")
    }
}
