import FlotillaCore
import Foundation

/// Rejects an attempt that adds more than the mission allows (`--max-added-bytes`, `--max-added-files`): a 1 GB file
/// or fifty thousand junk files are not source code, and nothing after this step reads them (no diff, no gate).
struct AdditionCapStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        guard let commit = state.commit else { return .next }
        let caps = environment.mission.options.additionCaps
        guard caps.bytes != nil || caps.files != nil else { return .next }
        let added = try await environment.git.additions(from: state.plan.startCommit, to: commit)
        var over: [String] = []
        if let cap = caps.files, added.files > cap {
            over.append("adds \(added.files) files (at most \(cap); --max-added-files)")
        }
        if let cap = caps.bytes, added.bytes > cap {
            let largest = added.largest.map { ", \($0.path) alone \(ByteCount.describe($0.bytes))" } ?? ""
            over.append(
                "adds \(ByteCount.describe(added.bytes))\(largest) (at most \(ByteCount.describe(cap)); --max-added-bytes)"
            )
        }
        guard !over.isEmpty else { return .next }
        let reason = over.joined(separator: "; ")
        return .end(.failed(outcome: .rejected, reason: reason, feedback: Feedback.tooLarge(reason)))
    }
}

/// The changes and the patch of a snapshot, for the steps after it, people and the critic.
struct ChangesStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        guard let snapshot = state.commit else { return .next }
        let plan = state.plan
        state.changes = try await environment.git.changes(from: plan.startCommit, to: snapshot)
        // The agent's whole change, whatever is judged of it.
        let patch = try await environment.git.diff(from: plan.startCommit, to: snapshot)
        try? patch.write(toFile: environment.layout.patch(plan.mission, plan.key), atomically: true, encoding: .utf8)
        return .next
    }
}
