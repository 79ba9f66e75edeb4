import FlotillaCore
import Foundation

/// The gate: the mission's trusted verify command (or the group's check) on a clean checkout of exactly the judged
/// commit, in a directory the agent never had.
struct GateStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        let context = environment.context
        let plan = state.plan
        let layout = environment.layout
        let checkout = layout.gateWorktree(plan.mission, plan.slot)
        try await context.checkout(state.judged, into: checkout, mission: plan.mission, judging: true)
        let verification = try await context.gate.verify(
            kind: .gate,
            attempt: plan.key,
            commit: state.judged,
            in: checkout,
            groups: [plan.key.group],
            logPath: layout.gateLog(plan.mission, plan.key, .gate)
        )
        try Task.checkCancellation()
        state.verification = verification
        // With a reviewer, a passing attempt may land only once its review is recorded.
        let reviewFollows = verification.passed && ReviewStep.reviews(plan.key, environment)
        environment.update(.gateFinished(verification, reviewFollows: reviewFollows))
        return .next
    }
}

extension AttemptState {
    /// The attempt's changed paths and the start of its patch, for a critic or a reviewer to read.
    func changeSummary(_ layout: MissionLayout) -> String {
        let patch = (try? String(contentsOfFile: layout.patch(plan.mission, key), encoding: .utf8)) ?? ""
        let changed = changes.map { "\($0.paths.joined(separator: ", ")) (\($0.stat))\n" } ?? ""
        return changed + String(patch.prefix(4000))
    }

    /// The end of the gate's output, as much as a prompt takes.
    var gateOutput: String { String((verification?.outputTail ?? "").suffix(Feedback.tailForPrompt)) }
}
