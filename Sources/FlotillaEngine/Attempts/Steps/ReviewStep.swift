import FlotillaCore
import Foundation

/// Has a model score what the gate passed (`--review`).
///
/// A review may hold work back (`block`, under the threshold), never pass what the gate failed.
struct ReviewStep: AttemptStep {
    /// Whether a review follows a passing gate of `key`.
    static func reviews(_ key: AttemptKey, _ environment: AttemptEnvironment) -> Bool {
        environment.context.reviewer != nil && environment.mission.checklist.group(key.group) != nil
    }

    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        guard state.verification?.passed == true, let reviewer = environment.context.reviewer,
            let group = environment.mission.checklist.group(state.key.group)
        else { return .next }
        let (verdict, call) = await reviewer.review(
            state.key,
            group: group,
            gateOutput: state.gateOutput,
            changes: state.changeSummary(environment.layout)
        )
        state.pay(call, environment)
        environment.update(.reviewed(verdict))
        state.reviewScore = verdict.score
        guard verdict.blocks else { return .next }
        return .end(
            .failed(
                outcome: .rejected,
                reason: "the review scored it \(verdict.score ?? 0)/10, under \(verdict.threshold): \(verdict.summary)",
                feedback: Reviewer.feedback(verdict)
            )
        )
    }
}
