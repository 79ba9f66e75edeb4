import FlotillaCore
import Foundation

/// What a step's session changed in the attempt's checkout, after Flotilla took back what it was not to change:
/// everything, for a read-only step; what lies outside its `paths`, for a writing one.
struct StepChanges {
    /// The commit of the checkout after the step (its parent the checkout before it); nil when nothing stayed.
    var snapshot: String?
    /// A read-only step changed files, and they were thrown away.
    var discarded = false

    static func read(
        _ step: PipelineStep,
        at place: (number: Int, loop: Int, attempt: Int),
        head: String,
        worktree: String,
        plan: AttemptPlan,
        agent: any AgentBackend,
        _ environment: AttemptEnvironment
    ) async throws -> StepChanges {
        let git = environment.git
        try await SnapshotStep.setAsideToolFiles(agent.ownFiles, in: worktree, of: plan, environment)
        guard
            let commit = try await git.snapshot(
                worktree,
                index: environment.layout.index(plan.mission, of: worktree),
                parent: head,
                message: "flotilla: \(plan.key) step \(place.number) \(step.id)",
                author: .agent(agent.name)
            )
        else { return StepChanges() }
        let changed = try await git.changes(from: head, to: commit).paths
        guard !changed.isEmpty else { return StepChanges() }
        func takenBack(_ paths: [String], readOnly: Bool) {
            environment.update(
                .stepChangesTakenBack(
                    MissionEvent.StepChangesTakenBack(
                        step: step.id,
                        number: place.number,
                        loop: place.loop,
                        paths: paths,
                        readOnly: readOnly
                    )
                )
            )
        }
        if step.mode == .readOnly {
            try await environment.context.checkout(head, into: worktree, mission: plan.mission)
            takenBack(changed, readOnly: true)
            return StepChanges(snapshot: nil, discarded: true)
        }
        guard !step.paths.isEmpty else { return StepChanges(snapshot: commit) }
        let scope = ProtectedPaths(step.paths)
        let outside = changed.filter { scope.pattern(protecting: $0) == nil }
        guard !outside.isEmpty else { return StepChanges(snapshot: commit) }
        let tree = try await git.tree(try await git.tree(of: commit), restoring: outside, from: head)
        takenBack(outside, readOnly: false)
        guard tree != (try await git.tree(of: head)) else {
            try await environment.context.checkout(head, into: worktree, mission: plan.mission)
            return StepChanges()
        }
        let kept = try await git.commitTree(
            tree,
            parents: [head],
            message: "flotilla: \(plan.key) step \(place.number) \(step.id), within its paths",
            author: .agent(agent.name)
        )
        try await environment.context.checkout(kept, into: worktree, mission: plan.mission)
        return StepChanges(snapshot: kept)
    }
}
