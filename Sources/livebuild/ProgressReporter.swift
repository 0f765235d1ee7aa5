import Foundation
import LiveBuild
import Synchronization

/// Shows build events: a live status line on a terminal, plain lines otherwise (on stderr),
/// and a summary of artefacts and stage times at the end (on stdout).
final class ProgressReporter: Sendable {
    private let interactive: Bool
    private let state = Mutex<State>(State())

    private struct State {
        var stageStart: [String: Date] = [:]
        var lastDraw = Date.distantPast
    }

    init(interactive: Bool) {
        self.interactive = interactive
    }

    func handle(_ event: BuildEvent) {
        switch event {
        case .stageStarted(let stage):
            state.withLock { $0.stageStart[stage] = Date() }
            if !interactive { line("[\(stage)] started") }
        case .progress(let stage, let entries, let bytes):
            guard interactive else { return }
            let now = Date()
            let (start, draw) = state.withLock { state -> (Date?, Bool) in
                let draw = now.timeIntervalSince(state.lastDraw) > 0.1
                if draw { state.lastDraw = now }
                return (state.stageStart[stage], draw)
            }
            guard draw else { return }
            let elapsed = start.map { now.timeIntervalSince($0) } ?? 0
            write("\r\u{1b}[2K[\(stage)] \(entries) files, \(Self.megabytes(bytes)), \(Self.seconds(elapsed))")
        case .stageFinished(let stage, let seconds, let detail):
            if interactive { write("\r\u{1b}[2K") }
            line("[\(stage)] done in \(Self.seconds(seconds)): \(detail)")
        case .note(let text):
            if interactive { write("\r\u{1b}[2K") }
            line("  \(text)")
        }
    }

    func summary(_ manifest: Manifest, output: String) {
        var text = "\nBuilt \(manifest.profile.name) into \(output):\n"
        for artefact in manifest.artefacts {
            text += "  \(artefact.path.padding(toLength: 28, withPad: " ", startingAt: 0)) \(Self.megabytes(artefact.size).leftPadded(10))  sha256 \(artefact.sha256.prefix(16))\n"
        }
        let total = manifest.stages.reduce(0) { $0 + $1.seconds }
        text += "Stages: " + manifest.stages.map { "\($0.name) \(Self.seconds($0.seconds))" }.joined(separator: ", ")
        text += "; total \(Self.seconds(total))\n"
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    private func line(_ text: String) { write(text + "\n") }
    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    static func megabytes(_ bytes: UInt64) -> String {
        let tenths = (bytes * 10 + 524_288) / 1_048_576
        return "\(tenths / 10).\(tenths % 10) MiB"
    }

    static func seconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) s"
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
