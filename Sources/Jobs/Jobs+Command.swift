import Processes

extension Jobs {
    /// How a child ended: ``Processes/Exit``.
    public typealias Exit = Processes.Exit
    /// The process's reaper: ``Processes/Reaper``, which ``Supervisor`` waits on.
    typealias Reaper = Processes.Reaper

    /// Runs a helper program (criu) to completion: forwards to ``Processes/run(_:log:directory:)``,
    /// for the migration code that still calls it by this name.
    public enum Command {
        public typealias Failure = Processes.Failure

        /// Spawns `arguments` (absolute program path first) and waits for it.
        public static func run(_ arguments: [String], log: String, directory: String? = nil) async throws(Failure) -> Exit {
            try await Processes.run(arguments, log: log, directory: directory)
        }
    }
}
