import FlotillaCore
import Foundation

/// Names what is judged: the attempt's branch points at its commit (for the merge queue and for people), and the
/// ledger records it.
struct CommitStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        if let commit = state.commit {
            try await environment.git.pointBranch(
                MissionLayout.attemptBranch(state.plan.mission, state.key),
                at: commit
            )
        }
        environment.update(.committed(commit: state.commit, diff: state.changes?.stat))
        return .next
    }
}
