#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Migration {
    /// The control frames of a migration stream (JSON, one per frame). File contents follow a
    /// ``file`` frame as raw frames until its size is reached.
    public enum Message: Codable, Sendable, Equatable {
        /// Source → destination: this job, this big, dumped on this CPU (criu cpuinfo.img).
        case offer(job: String, record: Data, memoryKiB: UInt64, cpuinfo: Data)
        /// Destination → source: go ahead.
        case accept
        /// Destination → source: no, and why (CRIU check failed, CPU incompatible, busy).
        case refuse(String)
        /// Files of round `round` (`round` 0 is the job's own directory, -1 the files the job
        /// holds open, by absolute path): each a relative path and `size` bytes, or a symbolic
        /// link to `link`. Their contents follow as raw frames, one file after another in this
        /// order, a frame holding the end of one file and the start of the next: a round of
        /// CRIU's small images travels in one frame.
        case files(round: Int, entries: [FileEntry])
        /// Source → destination, for a pre-dump round: its memory comes from `criu pre-dump
        /// --page-server` on a page stream (``pages(job:)``) into a page server the destination
        /// runs for round `round`, on top of round `parent`; the round's other images follow as
        /// ``files(round:entries:)`` once the page stream has ended. The destination answers
        /// ``accept`` when its page server waits, or ``refuse(_:)`` (the source then dumps the
        /// round to its own disk and sends it as files). A round may be asked for again after a
        /// dump that failed, until its files came.
        case pageServer(round: Int, parent: Int?)
        /// Source → destination: every file of the final round and the job directory was sent;
        /// restore from round `round`.
        case restore(round: Int, record: Data)
        /// Source → destination, for post-copy: every file of round `round` but the job's
        /// anonymous memory was sent; restore it with CRIU's lazy pages, the memory to come over
        /// this stream from the source's frozen copy once `commit` has come (Docs/migration.md,
        /// "Post-copy").
        case restoreLazily(round: Int, record: Data)
        /// Destination → source: restored, stopped, waiting for `commit`.
        case restored(pid: Int32)
        /// Destination → source: the restore failed (the job stays at the source).
        case failed(String)
        /// Source → destination: the source's copy is gone; run.
        case commit
        /// Source → destination: give up; the source resumes the job.
        case abort
        /// Destination → source: running here now (after post-copy: with every page here).
        case done
        /// Source → destination, the first message of a second stream: from now on this stream
        /// relays CRIU's page-server protocol for `job` both ways, beside the migration stream.
        /// For post-copy, the lazy-pages daemon's requests and the source's pages (the restore
        /// and `commit` still use the migration stream meanwhile); for a pre-dump round
        /// (``pageServer(round:parent:)``), the source's pages and the page server's answers.
        case pages(job: String)
        /// Source → destination, on a new stream after losing the old one: what became of `job`?
        case query(job: String)
        /// Destination → source: the answer to ``query(job:)``.
        case state(running: Bool)
    }
}
