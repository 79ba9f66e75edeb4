import FlotillaCore
import Foundation

/// `--architect`: a model plans the change from the same prompt, reading nothing else; its plan goes under the prompt.
struct ArchitectStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        guard let architect = environment.context.architect else { return .next }
        let (plan, call) = await architect.plan(state.key, prompt: state.prompt)
        state.pay(call, environment)
        if let plan { state.prompt += "\n\n" + plan + "\n" }
        return .next
    }
}
