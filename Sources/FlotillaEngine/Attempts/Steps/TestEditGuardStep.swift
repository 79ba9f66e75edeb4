import FlotillaCore
import Foundation

/// Takes back edits to existing tests before the gate.
///
/// The attempt is judged, and lands, without them, unless `--allow-test-edits`, or the group's `Allow:` line, opens
/// them. New tests are welcome.
struct TestEditGuardStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        let mission = environment.mission
        // A change to protected paths is rejected as it is, reverted tests or not.
        guard let snapshot = state.commit, mission.options.allowTestEdits != true,
            ProtectedPathsStep.violations(of: state, mission).isEmpty
        else { return .next }
        let plan = state.plan
        let git = environment.git
        let tests = TestFiles(allowed: mission.checklist.group(plan.key.group)?.allow ?? [])
        var existing: [String] = []
        for path in state.changes?.paths ?? [] where tests.isProtected(path) {
            if try await git.fileMode(at: plan.startCommit, path: path) != nil { existing.append(path) }
        }
        guard !existing.isEmpty else { return .next }
        let tree = try await git.tree(try await git.tree(of: snapshot), restoring: existing, from: plan.startCommit)
        if tree == (try await git.tree(of: plan.startCommit)) {
            // Nothing else changed.
            state.commit = nil
            state.changes = nil
        } else {
            let commit = try await git.commitTree(
                tree,
                parents: [plan.startCommit],
                message: state.message + "\n\nEdits to existing tests taken back: " + existing.joined(separator: ", "),
                author: .agent(environment.context.agent.name)
            )
            state.commit = commit
            state.changes = try await git.changes(from: plan.startCommit, to: commit)
        }
        state.revertedTests = existing
        environment.update(.testEditsReverted(existing))
        return .next
    }
}
