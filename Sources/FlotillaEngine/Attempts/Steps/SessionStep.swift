import FlotillaCore
import Foundation

/// The agent's session: one fresh, confined run of the backend in the attempt's checkout, with the prompt.
///
/// A session that timed out, hit a rate limit or failed ends the attempt here; its work is not judged.
struct SessionStep: AttemptStep {
    func run(_ state: inout AttemptState, in environment: AttemptEnvironment) async throws -> StepOutcome {
        let context = environment.context
        let mission = environment.mission
        let plan = state.plan
        let promptFile = environment.layout.prompt(plan.mission, plan.key)
        try state.prompt.write(toFile: promptFile, atomically: true, encoding: .utf8)

        context.probe?.mark(.agentStarting(plan.key))
        // Whatever the session plants in its tool's settings (a hook, an MCP server) is put back when it ends.
        let watch = SettingsWatch.capture(context.sandbox)
        defer {
            if let restored = watch?.restore(), !restored.isEmpty {
                environment.update(.toolSettingsRestored(restored))
            }
        }
        let outcome = try await context.agent.run(
            AgentRequest(
                mission: plan.mission,
                attempt: plan.key,
                worktree: state.worktree,
                prompt: state.prompt,
                promptFile: promptFile,
                model: mission.model,
                timeout: mission.limits.attemptTimeout,
                environment: [:],
                transcriptPath: environment.layout.transcript(plan.mission, plan.key),
                budgetUSD: plan.budgetUSD,
                confinement: context.sandbox.session(
                    checkout: state.worktree,
                    promptFile: promptFile,
                    objects: context.git.sharedObjectsDirectory,
                    layout: environment.layout
                ),
                readOnlyFiles: Self.readOnlyFiles(in: state.worktree, of: state, mission: mission)
            )
        )
        state.costUSD += outcome.usage.costUSD
        state.session = outcome
        try Task.checkCancellation()
        environment.update(.agentFinished(outcome.report))

        if outcome.timedOut {
            let limit = mission.limits.attemptTimeout.shortDescription
            return .end(
                .failed(
                    outcome: .timedOut,
                    reason: "the agent did not finish within the \(limit) attempt timeout and was stopped",
                    feedback: Feedback.timedOut(limit: limit)
                )
            )
        }
        if case .rateLimited(let message)? = outcome.failure {
            let takeover = outcome.failover.map { "; \($0) takes over" } ?? ""
            return .end(
                .rateLimited(
                    reason: "the agent failed: \(outcome.failure?.description ?? message)\(takeover)",
                    feedback: Feedback.agentFailed(
                        "it hit a rate limit; this attempt does not count against the group"
                    ),
                    message: message,
                    holdDispatch: outcome.failover == nil
                )
            )
        }
        if let failure = outcome.failure {
            return .end(
                .failed(
                    outcome: .agentFailed,
                    reason: "the agent failed: \(failure)",
                    feedback: Feedback.agentFailed(failure.description)
                )
            )
        }
        state.message =
            "flotilla: \(plan.key.group) attempt \(plan.key.number)\n\n"
            + (outcome.finalMessage.map { String($0.prefix(2000)) } ?? "")
        return .next
    }

    /// The files of the checkout that the prompt names and the attempt may not change: protected paths, and
    /// existing tests unless this attempt may edit them.
    ///
    /// Looks at no more than `scanLimit` files, and gives at most `limit`: tools read these into the session.
    static func readOnlyFiles(
        in worktree: String,
        of state: AttemptState,
        mission: MissionSpec,
        limit: Int = 20,
        scanLimit: Int = 20000
    ) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: worktree) else { return [] }
        let protected = ProtectedPaths(mission.protectedPatterns)
        let tests =
            mission.options.allowTestEdits == true
            ? nil : TestFiles(allowed: mission.checklist.group(state.key.group)?.allow ?? [])
        var paths: [String] = []
        var scanned = 0
        while let path = walker.nextObject() as? String, scanned < scanLimit {
            scanned += 1
            if path == ".git" || path.hasSuffix("/.git") {
                walker.skipDescendants()
                continue
            }
            guard walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular else { continue }
            if protected.pattern(protecting: path) != nil || tests?.isProtected(path) == true { paths.append(path) }
        }
        return Array(PromptMentions.files(in: state.prompt, among: paths.sorted()).prefix(limit))
    }
}
