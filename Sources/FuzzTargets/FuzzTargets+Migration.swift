#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Jobs
import Migration

extension FuzzTargets {
    /// A migration's destination: the messages of a migration stream (``Migration/Message``, one
    /// JSON per line here), the offered job's id and record (``Jobs/Layout/isJobID(_:)``,
    /// ``Jobs/Record``, ``Jobs/Trust``), every announced file through ``Migration/Intake``, and
    /// /proc/PID/status of a restored process (``Jobs/Credentials``). The same bytes also drive
    /// the intake directly, as records of `round:i8 size:u32 pathLength:u8 path linkLength:u8 link`
    /// (length 255: no link), which mutate far more easily than JSON.
    public static func migration(_ bytes: [UInt8]) {
        var intake = Migration.Intake(budget: 1 << 30)
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n")).prefix(64).enumerated() {
            guard let message = try? JSONDecoder().decode(Migration.Message.self, from: Data(line)) else { continue }
            guard let encoded = try? JSONEncoder().encode(message) else { preconditionFailure("\(message) does not encode") }
            precondition((try? JSONDecoder().decode(Migration.Message.self, from: encoded)) == message, "\(message) does not re-decode to itself")
            switch message {
            case .offer(let job, let record, _, _):
                guard index == 0, Jobs.Layout.isJobID(job) else { continue }
                check(record: record, job: job)
            case .restore(_, let record), .restoreLazily(_, let record):
                check(record: record, job: nil)
            case .query(let job), .pages(let job):
                _ = Jobs.Layout.isJobID(job)
            case .files(let round, let entries):
                for entry in entries.prefix(256) {
                    admit(&intake, round: round, path: entry.path, size: entry.size, link: entry.link)
                }
            case .accept, .refuse, .restored, .failed, .commit, .abort, .done, .state, .pageServer:
                continue
            }
        }

        var direct = Migration.Intake(budget: 1 << 30)
        var input = Input(bytes)
        while !input.isEmpty {
            let round = Int(Int8(bitPattern: input.byte()))
            let size = UInt64(input.integer(UInt32.self))
            let path = String(decoding: input.take(Int(input.byte())), as: UTF8.self)
            let linkLength = input.byte()
            let link = linkLength == 255 ? nil : String(decoding: input.take(Int(linkLength)), as: UTF8.self)
            admit(&direct, round: round, path: path, size: size, link: link)
        }

        let text = String(decoding: bytes, as: UTF8.self)
        _ = Jobs.Layout.isJobID(text)
        if let credentials = Jobs.Credentials(status: text) {
            _ = credentials.matches(uid: 1000, gid: 1000, allowedGroups: [100])
        }
        // As /proc/PID/maps for the dirty-rate sampler (a job names its mappings' files).
        for range in Jobs.DirtyPages.writableRanges(maps: text) {
            precondition(range.start < range.end, "an empty or inverted writable mapping")
        }
        if let record = try? JSONDecoder().decode(Jobs.Record.self, from: Data(bytes)) {
            _ = Jobs.Trust().refusal(uid: record.uid, gid: record.gid, localGroups: nil)
        }
    }

    /// What the destination checks of an offered record: it decodes, names the job, and its
    /// user may come from a peer.
    private static func check(record data: Data, job: String?) {
        guard let record = try? JSONDecoder().decode(Jobs.Record.self, from: data) else { return }
        if let job, record.id != job { return }
        _ = Jobs.Trust().refusal(uid: record.uid, gid: record.gid, localGroups: nil)
        _ = Migration.Intake.shown(record.id)
    }

    /// One announced file: admitted files obey the rules the intake promises.
    private static func admit(_ intake: inout Migration.Intake, round: Int, path: String, size: UInt64, link: String?) {
        let before = intake.budget
        _ = Migration.Intake.shown(path)
        guard let placement = try? intake.admit(round: round, path: path, size: size, link: link) else {
            precondition(intake.budget == before, "a refused file was charged")
            return
        }
        precondition(intake.budget == before - size, "an admitted file was not charged its size")
        switch placement {
        case .jobFile(let name):
            precondition(round == 0 && Migration.Intake.jobFiles.contains(name))
        case .image(let imageRound, let name):
            precondition(imageRound == round && (1...Migration.Intake.maxRound).contains(round))
            precondition(!name.hasPrefix(".") && !name.contains("/"), "image name \(name) admitted")
        case .parentLink(let linkRound, let target):
            precondition(linkRound == round && path == "parent" && target.hasPrefix("../") && size == 0)
        case .openFile(let absolute):
            // Byte by byte, as the kernel will walk it (Character comparisons would merge a `/`
            // with a combining mark after it).
            let bytes = Array(absolute.utf8)
            let components = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
            let bad: Set<[UInt8]> = [[], Array(".".utf8), Array("..".utf8)]
            precondition(bytes.first == UInt8(ascii: "/") && !components.contains { bad.contains(Array($0)) }, "open file \(absolute) admitted")
            let first = components.first.map { Array($0) } ?? []
            precondition(![Array("proc".utf8), Array("sys".utf8), Array("dev".utf8)].contains(first), "open file \(absolute) admitted")
        }
    }
}
