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
        /// A file of round `round` (`round` 0 is the job's own directory), relative path,
        /// `size` bytes to follow; or a symbolic link to `link`.
        case file(round: Int, path: String, size: UInt64, mode: UInt32, link: String?)
        /// Source → destination: every file of the final round and the job directory was sent;
        /// restore from round `round`.
        case restore(round: Int, record: Data)
        /// Destination → source: restored, stopped, waiting for `commit`.
        case restored(pid: Int32)
        /// Destination → source: the restore failed (the job stays at the source).
        case failed(String)
        /// Source → destination: the source's copy is gone; run.
        case commit
        /// Source → destination: give up; the source resumes the job.
        case abort
        /// Destination → source: running here now.
        case done
        /// Source → destination, on a new stream after losing the old one: what became of `job`?
        case query(job: String)
        /// Destination → source: the answer to ``query(job:)``.
        case state(running: Bool)
    }
}
