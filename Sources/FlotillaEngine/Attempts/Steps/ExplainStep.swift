import FlotillaCore
import Foundation

/// Ends an attempt whose gate failed, with what the next attempt is told.
///
/// That is the gate's output and, with a critic, its analysis. The critic reads the verdict once it is recorded: it
/// explains, it never changes it.
struct ExplainStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        guard let verification = state.verification, !verification.passed else { return .next }
        var feedback = Feedback.gateFailed(verification, agentExit: state.session?.termination)
        if !state.revertedTests.isEmpty { feedback = Feedback.testsReverted(state.revertedTests) + "\n\n" + feedback }
        if let critic = environment.context.critic, let group = environment.mission.checklist.group(state.key.group) {
            let (review, call) = await critic.review(
                state.key,
                group: group,
                gateOutput: state.gateOutput,
                changes: state.changeSummary(environment.layout)
            )
            // The critic's cost is the attempt's (it counts against the budget); the call keeps its own row.
            state.pay(call, environment)
            if let review {
                feedback += "\n\n" + Critic.feedback(review)
            } else if let problem = call.error {
                feedback += "\n\n(The critic could not review this attempt: \(problem).)"
            }
        }
        return .end(.failed(outcome: .gateFailed, reason: Feedback.headline(verification), feedback: feedback))
    }
}
