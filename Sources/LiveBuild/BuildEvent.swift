/// What a build reports while it runs; the command line decides how to show it.
public enum BuildEvent: Sendable {
    /// A stage began (`base`, `rootfs`, `initramfs`, `iso`, ...).
    case stageStarted(String)
    /// Progress within a stage: entries and bytes handled so far.
    case progress(stage: String, entries: Int, bytes: UInt64)
    /// A stage ended after `seconds`; `detail` is one line for the summary.
    case stageFinished(String, seconds: Double, detail: String)
    /// Something worth a line (a cache hit, a module the kernel lacks).
    case note(String)
}
