import FlotillaCore
import Foundation

/// Gives the attempt its slot's checkout, exactly at the start commit, with a repository of its own.
///
/// Updating a checkout kept per slot gives the same files as a fresh one, but writes only what changed since the slot's
/// last attempt.
struct CheckoutStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        let layout = environment.layout
        try FileManager.default.createDirectory(
            atPath: layout.agentOutputs(state.plan.mission),
            withIntermediateDirectories: true
        )
        try await environment.context.checkout(
            state.plan.startCommit,
            into: state.worktree,
            mission: state.plan.mission
        )
        return .next
    }
}
