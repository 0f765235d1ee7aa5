#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClusterControl
import ClusterWire
import Jobs
import Migration

extension FuzzTargets {
    /// A few valid inputs per target, made with the real encoders: the start of each corpus
    /// (`livebuild-fuzz --write-seeds Tests/Fuzz/Seeds` writes them as TARGET/NAME).
    public static func seeds() -> [(target: String, name: String, bytes: [UInt8])] {
        var seeds: [(target: String, name: String, bytes: [UInt8])] = []
        func add(_ target: String, _ name: String, _ bytes: [UInt8]) { seeds.append((target, name, bytes)) }
        func json<T: Encodable>(_ value: T) -> [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys  // the same bytes every run
            return (try? encoder.encode(value)).map { Array($0) } ?? []
        }

        // Datagrams: sealed ping and join, and a gossip message's plaintext.
        let update = Wire.MemberUpdate(
            node: datagramSender, incarnation: 3, status: .alive, address: Wire.Address(host: "10.0.0.1", port: 7946),
            load: Wire.NodeLoad(cpus: 4, cpuMHz: 2400, loadMilli: 1500, freeMemoryKiB: 1 << 20, runningJobs: 2,
                                agentVersion: "0.1", hostname: "node1", bootTime: 1_700_000_000, memoryTotalKiB: 4 << 20,
                                acceptsJobs: true, sharesDirectory: true))
        var sealer = Wire.Sealer(keys: keys, sender: datagramSender, session: 0x5E55_1011)
        if let ping = try? sealer.seal(.ping(probe: 1, updates: [update]), to: datagramRecipient, nonce: Array(repeating: 1, count: 12)) {
            add("datagram", "sealed-ping", ping)
        }
        if let join = try? sealer.seal(.join(update), to: .anyRecipient, nonce: Array(repeating: 2, count: 12)) {
            add("datagram", "sealed-join", join)
        }
        add("datagram", "gossip-plaintext", Wire.Message.gossip(updates: [update, update]).encoded())
        var labelled = update
        labelled.load.labels = ["gpu": "yes", "rack": "a-1"]
        labelled.load.startsJobs = true
        add("datagram", "gossip-labels-plaintext", Wire.Message.gossip(updates: [labelled]).encoded())
        add("datagram", "pingreq-plaintext",
            Wire.Message.pingReq(probe: 9, target: datagramRecipient, address: update.address, updates: []).encoded())

        // Streams: a whole handshake and two frames; frames after a handshake; payloads to seal.
        // Each with both ciphers (the selector byte's quotient by 3 picks it; FuzzTargets.stream).
        for (cipher, suffix, offset) in [(Wire.Stream.Cipher.chaChaPoly, "", UInt8(0)), (.aesGCM, "-aes", 3)] {
            let client = Wire.Stream.Client(keys: keys, me: streamClientID, nonce: streamClientNonce, cipher: cipher)
            var server = Wire.Stream.Server(keys: keys, me: streamServerID, nonce: streamServerNonce)
            if let serverHello = try? server.receive(clientHello: client.hello),
               let (finish, clientSession) = try? client.receive(serverHello: serverHello) {
                var session = clientSession
                let frames = ((try? session.seal(Array(#"{"migration":true}"#.utf8))) ?? []) + ((try? session.seal([1, 2, 3])) ?? [])
                add("stream", "handshake-and-frames" + suffix, [offset] + client.hello + finish + frames)
            }
            var (fresh, _) = streamSessions(cipher)
            let frames = ((try? fresh.seal(json(PeerFrame(request: .init(request: Control.Request.ps(), uid: 1000, gid: 1000))))) ?? [])
                + ((try? fresh.seal([])) ?? [])
            add("stream", "frames" + suffix, [offset + 1] + frames)
            add("stream", "payloads" + suffix, [offset + 2, 0, 0, 5] + Array("hello".utf8) + [3, 0, 1, 0x41])
        }

        // Control: requests from the `cluster` command, and a peer's first frames.
        let run = Control.Request.run(Control.RunSpec(arguments: ["/bin/sleep", "60"], workingDirectory: "/home/user", environment: ["PATH=/usr/bin"]), node: "node2")
        add("control", "run", json(run) + [UInt8(ascii: "\n")])
        add("control", "logs", json(Control.Request.logs(job: "0a1b2c-17", from: Control.LogOffsets(stdout: 10, stderr: 0))) + [UInt8(ascii: "\n")])
        add("control", "logs-wait", json(Control.Request.logs(job: "0a1b2c-17", from: Control.LogOffsets(), wait: true)) + [UInt8(ascii: "\n")])
        let placed = Control.Request.run(Control.RunSpec(
            arguments: ["/bin/sh", "-c", "make"], workingDirectory: "/home/user", environment: ["PATH=/usr/bin"],
            labels: ["gpu": "yes"], program: "/bin/sh", placement: "placed from node1: cost 1.00 there, 2.00 here"), node: "node2")
        add("control", "peer-request-placed", json(PeerFrame(request: .init(request: placed, uid: 1000, gid: 1000))))
        add("control", "ps", Array(#"{"command":"ps","local":true}"# .utf8) + [UInt8(ascii: "\n")])
        add("control", "migrate-cancel", json(Control.Request.cancelMove(job: "0a1b2c-17")) + [UInt8(ascii: "\n")])
        add("control", "peer-request", json(PeerFrame(request: .init(request: run, uid: 1000, gid: 1000))))
        add("control", "peer-migration", Array(#"{"migration":true}"#.utf8))

        // Migration: an offer and the files of a small migration; a binary intake record; a status.
        var record = Jobs.Record(id: "0a1b2c-17", arguments: ["/bin/sleep", "60"], workingDirectory: "/home/user",
                                 environment: [], uid: 1000, gid: 1000, owner: "user", homeNode: "node1", stay: false, startedAt: 1_700_000_000)
        record.migrations = [Jobs.Record.Migration(from: "node1", to: "node2", at: 1_700_000_100)]
        let recordData = Data(json(record))
        let messages: [Migration.Message] = [
            .offer(job: "0a1b2c-17", record: recordData, memoryKiB: 2048, cpuinfo: Data([1, 2, 3])),
            .files(round: 0, entries: [.init(path: "job.json", size: 300, mode: 0o644)]),
            .files(round: 1, entries: [.init(path: "inventory.img", size: 40, mode: 0o600), .init(path: "pages-1.img", size: 4096, mode: 0o600)]),
            .pageServer(round: 2, parent: 1),
            .files(round: 2, entries: [.init(path: "parent", size: 0, mode: 0o777, link: "../1")]),
            .files(round: -1, entries: [.init(path: "/home/user/out.txt", size: 12, mode: 0o644)]),
            .restore(round: 2, record: recordData),
            .query(job: "0a1b2c-17"),
        ]
        add("migration", "offer-and-files", messages.flatMap { json($0) + [UInt8(ascii: "\n")] })
        let postcopy: [Migration.Message] = [
            .offer(job: "0a1b2c-17", record: recordData, memoryKiB: 2048, cpuinfo: Data([1, 2, 3])),
            .files(round: 1, entries: [.init(path: "core-1.img", size: 900, mode: 0o600)]),
            .restoreLazily(round: 1, record: recordData),
            .pages(job: "0a1b2c-17"),
            .commit,
        ]
        add("migration", "postcopy", postcopy.flatMap { json($0) + [UInt8(ascii: "\n")] })
        add("migration", "record", json(record))
        add("migration", "intake-records", [1, 0, 0, 16, 0, 11] + Array("pages-1.img".utf8) + [255]
            + [2, 0, 0, 0, 0, 6] + Array("parent".utf8) + [4] + Array("../1".utf8))
        add("migration", "proc-status", Array("""
            Name:\tsleep
            Uid:\t1000\t1000\t1000\t1000
            Gid:\t1000\t1000\t1000\t1000
            Groups:\t100 1000
            CapInh:\t0000000000000000
            CapPrm:\t0000000000000000
            CapEff:\t0000000000000000
            CapBnd:\t000001ffffffffff
            CapAmb:\t0000000000000000

            """.utf8))
        add("migration", "proc-maps", Array("""
            55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 1234 /usr/bin/python3
            55d0c0c21000-55d0c0c42000 rw-p 00021000 08:01 1234 /home/ada/odd name\\012with newline
            7f0000000000-7f0010000000 rw-p 00000000 00:00 0
            ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]

            """.utf8))

        // CRIU's images: a final dump's page map (present pages and holes) and its memory areas.
        typealias Images = Migration.Images
        let pagemap = Images.Pagemap(pagesID: 1, entries: [
            .init(vaddr: 0x40_0000, pages: 2, flags: Images.present),
            .init(vaddr: 0x7f00_0000_0000, pages: 16, flags: Images.inParent),
            .init(vaddr: 0x7f00_0001_0000, pages: 4, flags: Images.present | Images.lazy),
            .init(vaddr: 0x7ffc_0000_0000, pages: 3, flags: Images.present),
        ]).bytes.dropFirst(8)
        let mm = Images.mm(areas: [
            .init(start: 0x40_0000, end: 0x40_2000, flags: 0x02, status: 1),
            .init(start: 0x7f00_0000_0000, end: 0x7f00_0002_0000, flags: 0x22, status: 1 | 1 << 9),
            .init(start: 0x7ffc_0000_0000, end: 0x7ffc_0000_3000, flags: 0x22, status: 1 | 1 << 1),
        ]).dropFirst(8)
        add("criu-images", "pagemap-and-mm", [UInt8(pagemap.count & 0xff), UInt8(pagemap.count >> 8)] + pagemap + mm)
        add("criu-images", "pstree", [3, 0, 0, 0, 1 << 3, 0xa7, 0x0d, 5, 0, 0, 0, 1 << 3, 0xa8, 0x0d, 2 << 3, 0xa7, 0x0d])
        add("criu-images", "page-request", [7, 0, 0, 0, 3, 0, 0, 0] + [0, 0x10, 0, 0, 0, 0, 0, 0] + [0xa7, 6, 0, 0, 0, 0, 0, 0])

        // HTTP: what iPXE, GRUB and the live init's fetch= send, and a few that must be refused.
        add("http", "get", Array("GET /live/vmlinuz HTTP/1.1\r\nHost: 10.0.0.1\r\nUser-Agent: iPXE/1.21\r\n\r\n".utf8))
        add("http", "head-escaped", Array("HEAD /%6Cive/vmlinuz?x=1 HTTP/1.0\r\n\r\n".utf8))
        add("http", "pipelined", Array("GET /live/vmlinuz HTTP/1.1\r\nHost: a\r\n\r\nGET /out/passwd HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        add("http", "escape", Array("GET /live/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        add("http", "post", Array("POST /live/vmlinuz HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc".utf8))
        for (name, value) in admissionSeeds() {
            add("admission", name, json(value) + [UInt8(ascii: "\n")])
        }
        return seeds
    }
}
