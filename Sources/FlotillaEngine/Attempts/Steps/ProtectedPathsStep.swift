import FlotillaCore
import Foundation

/// A change to a protected path (the verify scripts, the checklist, `flotilla.toml`, `--protect` globs) is rejected
/// before it is judged, and the agent is told why.
struct ProtectedPathsStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        let violations = Self.violations(of: state, environment.mission)
        guard !violations.isEmpty else { return .next }
        let list = violations.map { "\($0.path) (protected by `\($0.pattern)`)" }.joined(separator: ", ")
        return .end(
            .failed(outcome: .rejected, reason: "modified protected paths: \(list)", feedback: Feedback.rejected(list))
        )
    }

    /// The protected paths the attempt's change touches, each with the pattern that protects it.
    static func violations(of state: AttemptState, _ mission: MissionSpec) -> [(path: String, pattern: String)] {
        ProtectedPaths(mission.protectedPatterns).violations(in: state.changes?.paths ?? [])
    }
}
