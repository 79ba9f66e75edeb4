import FlotillaCore
import Foundation

/// Reads the agent's files into a commit.
///
/// It reads them through Flotilla's own index: the agent's commits, branches or a rewritten `.git` change nothing, and
/// none of its files is skipped. Files the tool wrote for itself are set aside first.
struct SnapshotStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        let plan = state.plan
        let git = environment.git
        do {
            try await Self.setAsideToolFiles(
                environment.context.agent.ownFiles,
                in: state.worktree,
                of: plan,
                environment
            )
            state.commit = try await git.snapshot(
                state.worktree,
                index: environment.layout.index(plan.mission, of: state.worktree),
                parent: plan.startCommit,
                message: state.message,
                author: .agent(state.session?.backend ?? environment.context.agent.name)
            )
        } catch {
            // The agent left files git cannot take (a name git refuses, a file it cannot read): that is this attempt's
            // failure, not the mission's.
            try Task.checkCancellation()
            return .end(
                .failed(
                    outcome: .agentFailed,
                    reason: "could not snapshot the agent's work: \(error)",
                    feedback: Feedback.agentFailed("its files could not be read into a commit (\(error))")
                )
            )
        }
        return .next
    }

    /// Moves the files the tool wrote for itself (`patterns`, its ``AgentBackend/ownFiles``) that the start commit does
    /// not have out of the checkout, into the mission's folder: a tool's history is not the agent's work.
    static func setAsideToolFiles(
        _ patterns: [String],
        in worktree: String,
        of plan: AttemptPlan,
        _ environment: AttemptEnvironment
    ) async throws {
        guard !patterns.isEmpty else { return }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: worktree)) ?? []
        let kept = environment.layout.toolFiles(plan.mission, plan.key)
        for name in names.sorted() where patterns.contains(where: { fnmatch($0, name, 0) == 0 }) {
            guard try await environment.git.fileMode(at: plan.startCommit, path: name) == nil else { continue }
            try FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
            let target = (kept as NSString).appendingPathComponent(name)
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.moveItem(
                atPath: (worktree as NSString).appendingPathComponent(name),
                toPath: target
            )
        }
    }
}
