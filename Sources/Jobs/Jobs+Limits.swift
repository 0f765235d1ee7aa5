extension Jobs {
    /// What else CRIU restores as root from images that come from the network, besides
    /// credentials: each thread's scheduling policy and nice value, and each process's resource
    /// limits and OOM score adjustment. An ordinary user cannot raise any of these, so a restored
    /// job may hold nothing a job started on this node would not: a normal scheduling class
    /// (never real-time or deadline), a nice value of 0 or more, hard limits no higher than the
    /// agent's own (which a job started here inherits), and an OOM adjustment no lower than the
    /// agent's. Checked while the restored tree is still stopped (Docs/security.md).
    public enum Limits {
        /// SCHED_OTHER, SCHED_BATCH and SCHED_IDLE: what any user may choose.
        public static let ordinaryPolicies: Set<Int> = [0, 3, 5]

        /// The scheduling policy (field 41) and nice value (field 19) of a /proc/PID/stat or
        /// /proc/PID/task/TID/stat line; nil when malformed.
        public static func scheduling(stat text: String) -> (policy: Int, nice: Int)? {
            guard let close = text.lastIndex(of: ")") else { return nil }
            // Fields from the third (the state) on.
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count >= 39, let nice = Int(fields[19 - 3]), let policy = Int(fields[41 - 3]) else { return nil }
            return (policy, nice)
        }

        /// The hard limits of a /proc/PID/limits text by name ("Max open files"); nil stands
        /// for unlimited. Nil when no limit could be read.
        public static func hardLimits(_ text: String) -> [String: UInt64?]? {
            var limits: [String: UInt64?] = [:]
            for line in text.split(separator: "\n").dropFirst() {
                // "Max open files            1024                 65536                files"
                let words = line.split(separator: " ", omittingEmptySubsequences: true)
                // The name is every word before the two values (the units may be missing).
                guard let valueIndex = words.firstIndex(where: { $0 == "unlimited" || UInt64($0) != nil }),
                      valueIndex + 1 < words.count else { continue }
                let name = words[..<valueIndex].joined(separator: " ")
                let hard = words[valueIndex + 1]
                if hard == "unlimited" {
                    limits[name] = .some(nil)
                } else if let value = UInt64(hard) {
                    limits[name] = .some(value)
                } else {
                    return nil
                }
            }
            return limits.isEmpty ? nil : limits
        }

        /// Whether a /proc/PID/stat line is a zombie's (state Z, or X while it goes).
        public static func isZombie(stat text: String) -> Bool {
            guard let close = text.lastIndex(of: ")") else { return false }
            let state = text[text.index(after: close)...].drop { $0 == " " }.first
            return state == "Z" || state == "X"
        }

        /// Whether process `pid` is a zombie (false when it cannot be read).
        public static func isZombie(pid: Int32, procRoot: String = "/proc") -> Bool {
            ProcFiles.read("\(procRoot)/\(pid)/stat").map(isZombie(stat:)) ?? false
        }

        /// Why process `pid` (with its `threads`) holds more than a job started here may, or nil.
        /// `ceilings` are the agent's own hard limits and `ownOOMAdjust` its OOM adjustment.
        ///
        /// A zombie holds nothing and runs nothing again: CRIU restores one only to give its
        /// parent the exit to reap, with criu's own limits (criu raises its open-files limit to
        /// the kernel's `nr_open`), so its limits are not the job's.
        public static func problem(
            pid: Int32, threads: [Int32], ceilings: [String: UInt64?], ownOOMAdjust: Int, procRoot: String = "/proc"
        ) -> String? {
            if isZombie(pid: pid, procRoot: procRoot) { return nil }
            for thread in threads {
                guard let stat = ProcFiles.read("\(procRoot)/\(pid)/task/\(thread)/stat"),
                      let scheduling = scheduling(stat: stat) else {
                    return "cannot read the scheduling of pid \(pid) thread \(thread)"
                }
                guard ordinaryPolicies.contains(scheduling.policy) else {
                    return "pid \(pid) thread \(thread) has scheduling policy \(scheduling.policy) (real-time or deadline), which only root may set"
                }
                guard scheduling.nice >= 0 else {
                    return "pid \(pid) thread \(thread) has nice \(scheduling.nice), below the 0 jobs start at"
                }
            }
            guard let text = ProcFiles.read("\(procRoot)/\(pid)/limits"), let limits = hardLimits(text) else {
                return "cannot read the resource limits of pid \(pid)"
            }
            for (name, ceiling) in ceilings {
                guard let limit = limits[name] else { return "pid \(pid) has no \(name) limit" }
                if let ceiling, limit.map({ $0 > ceiling }) ?? true {
                    return "pid \(pid) has a hard \(name) limit of \(limit.map(String.init) ?? "unlimited"), above this node's \(ceiling)"
                }
            }
            guard let adjust = ProcFiles.read("\(procRoot)/\(pid)/oom_score_adj").flatMap({ Int($0.filter { $0 == "-" || $0.isNumber }) }) else {
                return "cannot read the OOM score adjustment of pid \(pid)"
            }
            guard adjust >= ownOOMAdjust else {
                return "pid \(pid) has OOM score adjustment \(adjust), below this node's \(ownOOMAdjust)"
            }
            return nil
        }

        /// The calling process's hard limits and OOM adjustment: what a job started here gets.
        public static func own(procRoot: String = "/proc") -> (ceilings: [String: UInt64?], oomAdjust: Int)? {
            guard let limits = ProcFiles.read("\(procRoot)/self/limits").flatMap(hardLimits),
                  let adjust = ProcFiles.read("\(procRoot)/self/oom_score_adj").flatMap({ Int($0.filter { $0 == "-" || $0.isNumber }) }) else {
                return nil
            }
            return (limits, adjust)
        }
    }
}
