import FlotillaCore
import Foundation

/// What the loop learns when an attempt's agent and gate are done.
enum AttemptResult: Sendable {
    /// The gate passed: the attempt waits in the merge queue with this commit.
    /// `reviewScore`: what `--review` scored it (of 10), when it was reviewed; best of N ranks by it.
    case passed(commit: String, criteriaPassed: Int?, reviewScore: Int? = nil)
    case failed(outcome: AttemptOutcome, reason: String, feedback: String, criteriaPassed: Int?)
    /// The agent hit a rate limit or quota: not the group's fault. Every agent waits, unless a fallback backend
    /// takes over (`holdDispatch` false).
    case rateLimited(reason: String, feedback: String, message: String, holdDispatch: Bool)
    /// The mission stopped while it ran.
    case cancelled
    /// Flotilla itself could not carry on (git or the file system failed).
    case error(String)
}

/// Runs one attempt: worktree, prompt, agent session, commit, protected-path check, gate.
struct AttemptExecution: Sendable {
    let mission: MissionSpec
    let key: AttemptKey
    let slot: Int
    let startCommit: String
    let prompt: String
    let context: EngineContext
    /// What this session may spend, when the mission is capped.
    var budgetUSD: Double? = nil

    /// Runs the attempt; also returns what the agent cost, whatever the outcome.
    func run() async -> (AttemptResult, costUSD: Double) {
        let spent = CostTally()
        do {
            return (try await execute(spent: spent), spent.value)
        } catch {
            if Task.isCancelled || error is CancellationError { return (.cancelled, spent.value) }
            return (.error("attempt \(key): \(error)"), spent.value)
        }
    }

    private func execute(spent: CostTally) async throws -> AttemptResult {
        let layout = context.layout
        let id = mission.id
        let worktree = layout.slotWorktree(id, slot)
        try FileManager.default.createDirectory(atPath: layout.agentOutputs(id), withIntermediateDirectories: true)
        try await prepare(worktree: worktree)
        var prompt = self.prompt
        if let architect = context.architect {
            // The architect plans from the same prompt, reading nothing else; both sessions are recorded.
            let (plan, call) = await architect.plan(key, prompt: prompt)
            spent.value += call.usage.costUSD
            try await context.record(.modelCalled(call), mission: id)
            if let plan { prompt += "\n\n" + plan + "\n" }
        }
        let promptFile = layout.prompt(id, key)
        try prompt.write(toFile: promptFile, atomically: true, encoding: .utf8)

        context.probe?.mark(.agentStarting(key))
        let outcome = try await context.agent.run(
            AgentRequest(
                mission: id,
                attempt: key,
                worktree: worktree,
                prompt: prompt,
                promptFile: promptFile,
                model: mission.model,
                timeout: mission.limits.attemptTimeout,
                environment: [:],
                transcriptPath: layout.transcript(id, key),
                budgetUSD: budgetUSD,
                confinement: context.sandbox.session(
                    checkout: worktree,
                    promptFile: promptFile,
                    objects: context.git.objectsDirectory,
                    layout: layout
                ),
                readOnlyFiles: readOnlyFiles(in: worktree)
            )
        )
        spent.value = outcome.usage.costUSD
        try Task.checkCancellation()
        try await context.record(.agentFinished(key, outcome.report), mission: id)
        context.probe?.mark(.checkpoint("agent.finished"))

        if outcome.timedOut {
            let limit = mission.limits.attemptTimeout.shortDescription
            return .failed(
                outcome: .timedOut,
                reason: "the agent did not finish within the \(limit) attempt timeout and was stopped",
                feedback: Feedback.timedOut(limit: limit),
                criteriaPassed: nil
            )
        }
        if case .rateLimited(let message)? = outcome.failure {
            let takeover = outcome.failover.map { "; \($0) takes over" } ?? ""
            return .rateLimited(
                reason: "the agent failed: \(outcome.failure?.description ?? message)\(takeover)",
                feedback: Feedback.agentFailed("it hit a rate limit; this attempt does not count against the group"),
                message: message,
                holdDispatch: outcome.failover == nil
            )
        }
        if let failure = outcome.failure {
            return .failed(
                outcome: .agentFailed,
                reason: "the agent failed: \(failure)",
                feedback: Feedback.agentFailed(failure.description),
                criteriaPassed: nil
            )
        }

        let message =
            "flotilla: \(key.group) attempt \(key.number)\n\n"
            + (outcome.finalMessage.map { String($0.prefix(2000)) } ?? "")
        var commit: String?
        do {
            try await setAsideToolFiles(in: worktree)
            // The attempt is the agent's files, read through Flotilla's own index: commits, branches or a rewritten
            // `.git` of the agent's change nothing, and none of it is ever skipped.
            commit = try await context.git.snapshot(
                worktree,
                index: layout.index(id, of: worktree),
                parent: startCommit,
                message: message,
                author: .agent(outcome.backend ?? context.agent.name)
            )
        } catch {
            // The agent left files git cannot take (a name git refuses, a file it cannot read): that is this
            // attempt's failure, not the mission's.
            try Task.checkCancellation()
            return .failed(
                outcome: .agentFailed,
                reason: "could not snapshot the agent's work: \(error)",
                feedback: Feedback.agentFailed("its files could not be read into a commit (\(error))"),
                criteriaPassed: nil
            )
        }
        var changes: (paths: [String], stat: DiffStat)?
        var violations: [(path: String, pattern: String)] = []
        var revertedTests: [String] = []
        if let snapshot = commit {
            changes = try await context.git.changes(from: startCommit, to: snapshot)
            // The agent's whole change, for people and the critic, whatever is judged of it.
            let patch = try await context.git.diff(from: startCommit, to: snapshot)
            try? patch.write(toFile: layout.patch(id, key), atomically: true, encoding: .utf8)
            violations = ProtectedPaths(mission.protectedPatterns).violations(in: changes?.paths ?? [])
            if violations.isEmpty {
                revertedTests = try await existingTests(in: changes?.paths ?? [])
                if !revertedTests.isEmpty {
                    commit = try await withoutTestEdits(snapshot, revertedTests, message: message)
                    if let commit {
                        changes = try await context.git.changes(from: startCommit, to: commit)
                    } else {
                        changes = nil
                    }
                    try await context.record(.testEditsReverted(key, paths: revertedTests), mission: id)
                }
            }
        }
        if let commit {
            // The attempt's branch names what is judged, for the merge queue and for people inspecting it.
            try await context.git.pointBranch(MissionLayout.attemptBranch(id, key), at: commit)
        }
        try await context.record(.attemptCommitted(key, commit: commit, diff: changes?.stat), mission: id)
        context.probe?.mark(.checkpoint("attempt.committed"))

        if !violations.isEmpty {
            let list = violations.map { "\($0.path) (protected by `\($0.pattern)`)" }.joined(separator: ", ")
            return .failed(
                outcome: .rejected,
                reason: "modified protected paths: \(list)",
                feedback: Feedback.rejected(list),
                criteriaPassed: nil
            )
        }

        let checked = commit ?? startCommit
        // Judged on a clean checkout of exactly that commit, in a directory the agent never had.
        let gateWorktree = layout.gateWorktree(id, slot)
        try await context.checkout(checked, into: gateWorktree, mission: id)
        let verification = try await context.gate.verify(
            kind: .gate,
            attempt: key,
            commit: checked,
            in: gateWorktree,
            groups: [key.group],
            logPath: layout.gateLog(id, key, .gate)
        )
        try Task.checkCancellation()
        // With a reviewer, a passing attempt joins the merge queue only once its review is recorded.
        let reviewed = context.reviewer != nil && mission.checklist.group(key.group) != nil
        try await context.record(
            .gateFinished(verification, reviewFollows: verification.passed && reviewed),
            mission: id
        )
        context.probe?.mark(.checkpoint("gate.recorded"))
        let criteria = verification.criteriaPassed(in: key.group)
        if verification.passed {
            var reviewScore: Int?
            // A reviewer reads only what the gate passed: it may hold work back, never pass what the gate failed.
            if let reviewer = context.reviewer, let group = mission.checklist.group(key.group) {
                let (verdict, call) = await reviewer.review(
                    key,
                    group: group,
                    gateOutput: String(verification.outputTail.suffix(Feedback.tailForPrompt)),
                    changes: changeSummary(changes)
                )
                spent.value += call.usage.costUSD
                try await context.record(.modelCalled(call), mission: id)
                try await context.record(.reviewed(key, verdict), mission: id)
                reviewScore = verdict.score
                if verdict.blocks {
                    return .failed(
                        outcome: .rejected,
                        reason:
                            "the review scored it \(verdict.score ?? 0)/10, under \(verdict.threshold): \(verdict.summary)",
                        feedback: Reviewer.feedback(verdict),
                        criteriaPassed: criteria
                    )
                }
            }
            return .passed(commit: checked, criteriaPassed: criteria, reviewScore: reviewScore)
        }
        var feedback = Feedback.gateFailed(verification, agentExit: outcome.termination)
        if !revertedTests.isEmpty { feedback = Feedback.testsReverted(revertedTests) + "\n\n" + feedback }
        // Only now, with the gate's verdict recorded, may a critic explain it: it cannot change it.
        if let critic = context.critic, let group = mission.checklist.group(key.group) {
            let (review, call) = await critic.review(
                key,
                group: group,
                gateOutput: String(verification.outputTail.suffix(Feedback.tailForPrompt)),
                changes: changeSummary(changes)
            )
            // The critic's cost is the attempt's (it counts against the budget); the call keeps its own row.
            spent.value += call.usage.costUSD
            try await context.record(.modelCalled(call), mission: id)
            if let review {
                feedback += "\n\n" + Critic.feedback(review)
            } else if let problem = call.error {
                feedback += "\n\n(The critic could not review this attempt: \(problem).)"
            }
        }
        return .failed(
            outcome: .gateFailed,
            reason: Feedback.headline(verification),
            feedback: feedback,
            criteriaPassed: criteria
        )
    }
}

extension AttemptExecution {
    /// The attempt's changed paths and the start of its patch, for a critic or a reviewer to read.
    private func changeSummary(_ changes: (paths: [String], stat: DiffStat)?) -> String {
        let patch = (try? String(contentsOfFile: context.layout.patch(mission.id, key), encoding: .utf8)) ?? ""
        let changed = changes.map { "\($0.paths.joined(separator: ", ")) (\($0.stat))\n" } ?? ""
        return changed + String(patch.prefix(4000))
    }

    /// The changed paths that are tests of the start commit this attempt may not edit.
    private func existingTests(in paths: [String]) async throws -> [String] {
        guard mission.options.allowTestEdits != true else { return [] }
        let tests = TestFiles(allowed: mission.checklist.group(key.group)?.allow ?? [])
        var existing: [String] = []
        for path in paths where tests.isProtected(path) {
            if try await context.git.fileMode(at: startCommit, path: path) != nil { existing.append(path) }
        }
        return existing
    }

    /// The agent's commit with `tests` as the start commit has them; nil when nothing else changed.
    private func withoutTestEdits(_ snapshot: String, _ tests: [String], message: String) async throws -> String? {
        let git = context.git
        let tree = try await git.tree(try await git.tree(of: snapshot), restoring: tests, from: startCommit)
        guard tree != (try await git.tree(of: startCommit)) else { return nil }
        return try await git.commitTree(
            tree,
            parents: [startCommit],
            message: message + "\n\nEdits to existing tests taken back: " + tests.joined(separator: ", "),
            author: .agent(context.agent.name)
        )
    }

    /// Gives the attempt its slot's checkout, exactly at the start commit, with a repository of its own.
    ///
    /// Updating a checkout kept per slot gives the same files as a fresh one, but writes only what changed since the
    /// slot's last attempt.
    private func prepare(worktree: String) async throws {
        try await context.checkout(startCommit, into: worktree, mission: mission.id)
    }

    /// The files of the checkout that the prompt names and the attempt may not change: protected paths, and
    /// existing tests unless this attempt may edit them.
    ///
    /// Looks at no more than `scanLimit` files, and gives at most `limit`: tools read these into the session.
    func readOnlyFiles(in worktree: String, limit: Int = 20, scanLimit: Int = 20000) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: worktree) else { return [] }
        let protected = ProtectedPaths(mission.protectedPatterns)
        let tests =
            mission.options.allowTestEdits == true
            ? nil : TestFiles(allowed: mission.checklist.group(key.group)?.allow ?? [])
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
        return Array(PromptMentions.files(in: prompt, among: paths.sorted()).prefix(limit))
    }
}

/// The cost of one attempt, kept even when the attempt ends in an error.
private final class CostTally: @unchecked Sendable {
    // SAFETY: written and read only by the attempt's own task, sequentially.
    var value: Double = 0
}

/// The texts that tell the next attempt what went wrong with this one.
enum Feedback {
    static let tailForPrompt = 3000

    static func gateFailed(_ verification: Verification, agentExit: Termination?) -> String {
        var text =
            verification.timedOut
            ? "The gate timed out." : "The gate failed with exit status \(verification.exitCode ?? -1)."
        if let agentExit, !agentExit.isSuccess { text += " (The agent session itself ended with \(agentExit).)" }
        text += " Command: `\(verification.command)`. The end of its output:\n\n" + fenced(verification.outputTail)
        return text
    }

    /// One line saying why a verification failed: its exit status and the last lines of its output.
    static func headline(_ verification: Verification) -> String {
        let status = verification.timedOut ? "timed out" : "exit \(verification.exitCode.map(String.init) ?? "?")"
        let lines = verification.outputTail.split(separator: "\n").map { String($0).trimmingWhitespace() }
            .filter { !$0.isEmpty && !$0.hasPrefix("[flotilla:") }
        let last = lines.suffix(2).joined(separator: " / ")
        return last.isEmpty ? status : "\(status): " + String(last.prefix(160))
    }

    static func rejected(_ list: String) -> String {
        "Your change was rejected before it was checked: it modified protected paths: \(list). "
            + "Protected files are the gate and the plan; leave them exactly as they are and change the code instead."
    }

    static func testsReverted(_ paths: [String]) -> String {
        "Your edits to existing tests were taken back before the check (existing tests are protected): "
            + paths.joined(separator: ", ") + ". Make the code pass the tests as they are; add new test files for "
            + "new behaviour."
    }

    static func timedOut(limit: String) -> String {
        "The session was stopped when it reached the \(limit) time limit, before it finished; its changes were "
            + "discarded. Aim for a smaller, direct change and avoid commands that wait or run forever."
    }

    static func agentFailed(_ failure: String) -> String {
        "The agent session failed before the gate could judge it: \(failure)."
    }

    static func conflict(files: [String], messages: String) -> String {
        var text =
            "Your change passed its check but conflicted with work that landed meanwhile, in: "
            + files.joined(separator: ", ") + ". This attempt starts from the new target head, which includes "
            + "that work: make your change again on top of it."
        if !messages.isEmpty { text += "\n\n" + fenced(messages) }
        return text
    }

    static func regression(_ verification: Verification) -> String {
        "Your change passed its own check, but merged with the work already landed it broke verified groups: the "
            + "regression verify of the merged commit failed with exit status \(verification.exitCode ?? -1) "
            + "(\(verification.landedGroupsChecked) landed groups checked with yours). Keep those groups working. "
            + "The end of its output:\n\n" + fenced(verification.outputTail)
    }

    /// A fixup's brief: its checkout is the merged combination that failed; both changes and the failure.
    static func fixup(_ verification: Verification, own: String, landed: String) -> String {
        "Fixup: your change passed its own gate, but merged with the work that landed after it started, the "
            + "regression verify of the merged commit failed with exit status \(verification.exitCode ?? -1). This "
            + "attempt starts from that merged commit: both changes are already in your checkout. Make the combination "
            + "pass, keeping every group's criteria.\n\nYour earlier change:\n\n" + diffBlock(own)
            + "\n\nWhat landed after it started:\n\n" + diffBlock(landed)
            + "\n\nThe end of the failed verify's output:\n\n" + fenced(verification.outputTail)
    }

    private static func diffBlock(_ diff: String) -> String {
        let shown = diff.count > 6000 ? String(diff.prefix(6000)) + "\n… (cut at 6000 characters)" : diff
        return "```diff\n" + (shown.isEmpty ? "(no changes)" : shown.trimmingBlankLines()) + "\n```"
    }

    static func rejected(_ decision: ApprovalDecision) -> String {
        "Your change passed the gate, but the human reviewing it before it landed rejected it"
            + (decision.by == "timeout" ? " (no answer came in time)" : "") + ". Their reason:\n\n"
            + (decision.reason.map { $0.isEmpty ? "(none given)" : $0 } ?? "(none given)")
            + "\n\nDo what they ask; the gate must still pass."
    }

    static func interrupted(_ reason: String) -> String {
        "This attempt was interrupted and discarded (\(reason)); it says nothing about your approach."
    }

    private static func fenced(_ output: String) -> String {
        let tail = output.utf8Tail(tailForPrompt).trimmingBlankLines()
        return "```\n" + (tail.isEmpty ? "(no output)" : tail) + "\n```"
    }
}

extension AttemptExecution {
    /// Moves the files the tool wrote for itself (``AgentBackend/ownFiles``) that the start commit does not have
    /// out of the checkout, into the mission's folder: a tool's history is not the agent's work.
    fileprivate func setAsideToolFiles(in worktree: String) async throws {
        let patterns = context.agent.ownFiles
        guard !patterns.isEmpty else { return }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: worktree)) ?? []
        let kept = context.layout.toolFiles(mission.id, key)
        for name in names.sorted() where patterns.contains(where: { fnmatch($0, name, 0) == 0 }) {
            guard try await context.git.fileMode(at: startCommit, path: name) == nil else { continue }
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
