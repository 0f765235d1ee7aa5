import Foundation

/// Times the stages of a build and reports them as events.
struct StageClock {
    let onEvent: @Sendable (BuildEvent) -> Void
    private(set) var stages: [Manifest.Stage] = []
    private var started: [String: ContinuousClock.Instant] = [:]

    init(onEvent: @escaping @Sendable (BuildEvent) -> Void) {
        self.onEvent = onEvent
    }

    mutating func start(_ stage: String) {
        started[stage] = .now
        onEvent(.stageStarted(stage))
    }

    mutating func finish(_ stage: String, detail: String) {
        let elapsed = started[stage].map { ContinuousClock.now - $0 } ?? .zero
        let rounded = (elapsed.seconds * 1000).rounded() / 1000
        stages.append(Manifest.Stage(name: stage, seconds: rounded, detail: detail))
        onEvent(.stageFinished(stage, seconds: rounded, detail: detail))
    }
}
