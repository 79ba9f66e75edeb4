import FlotillaCore
import Foundation
import Synchronization

/// An ``AttemptExecutor`` that runs nothing: a script answers each attempt, for fast tests of the loop's decisions.
///
/// It stands where the local pipeline (agent, snapshot, gate) stands, so a test says what each attempt found — a
/// commit that passed, a failed gate, a rate limit — and checks what the loop did with it. The loop still lands work
/// through real landings (git and the verify command of the test's own ports).
package final class ScriptedAttemptExecutor: AttemptExecutor {
    package typealias Script =
        @Sendable (AttemptPlan, _ update: @escaping @Sendable (AttemptUpdate) -> Void) async ->
        AttemptResult

    private let script: Script
    private let log = Mutex<[AttemptPlan]>([])

    package init(_ script: @escaping Script) {
        self.script = script
    }

    package func run(_ plan: AttemptPlan, update: @escaping @Sendable (AttemptUpdate) -> Void) async -> AttemptResult {
        log.withLock { $0.append(plan) }
        return await script(plan, update)
    }

    /// Every plan so far, in the order the attempts started.
    package var plans: [AttemptPlan] { log.withLock { $0 } }

    /// An attempt whose gate passed on `commit`: it reports what a real one does (the agent's end, the commit, the
    /// gate) and passes with that evidence.
    package static func passed(
        _ plan: AttemptPlan,
        commit: String,
        criteria: CriteriaScore? = nil,
        reviewScore: Int? = nil,
        diffLines: Int = 1,
        costUSD: Double = 0,
        update: @Sendable (AttemptUpdate) -> Void
    ) -> AttemptResult {
        update(.agentFinished(AgentReport(exitCode: 0, duration: .milliseconds(1), usage: Usage(costUSD: costUSD))))
        update(.committed(commit: commit, diff: DiffStat(files: 1, insertions: diffLines, deletions: 0)))
        update(.gateFinished(gate(plan, commit: commit, passed: true), reviewFollows: false))
        let evidence = AttemptEvidence(
            commit: commit,
            criteria: criteria,
            reviewScore: reviewScore,
            diffLines: diffLines,
            costUSD: costUSD
        )
        return AttemptResult(.passed, evidence: evidence)
    }

    /// An attempt whose gate failed.
    package static func gateFailed(
        _ plan: AttemptPlan,
        criteria: CriteriaScore? = nil,
        costUSD: Double = 0,
        update: @Sendable (AttemptUpdate) -> Void
    ) -> AttemptResult {
        update(.agentFinished(AgentReport(exitCode: 0, duration: .milliseconds(1), usage: Usage(costUSD: costUSD))))
        update(.committed(commit: nil, diff: nil))
        update(.gateFinished(gate(plan, commit: plan.startCommit, passed: false), reviewFollows: false))
        return AttemptResult(
            .failed(outcome: .gateFailed, reason: "exit 1: FAIL", feedback: "The gate failed."),
            evidence: AttemptEvidence(commit: plan.startCommit, criteria: criteria, costUSD: costUSD)
        )
    }

    /// An attempt whose agent hit a rate limit that said `message`; with `holdDispatch`, no fallback took over.
    package static func rateLimited(
        _ plan: AttemptPlan,
        message: String,
        holdDispatch: Bool = true,
        update: @Sendable (AttemptUpdate) -> Void
    ) -> AttemptResult {
        update(
            .agentFinished(AgentReport(exitCode: 1, duration: .milliseconds(1), failure: "rate limited: \(message)"))
        )
        return AttemptResult(
            .rateLimited(
                reason: "the agent failed: rate limited: \(message)",
                feedback: "The agent session failed before the gate could judge it: it hit a rate limit.",
                message: message,
                holdDispatch: holdDispatch
            )
        )
    }

    private static func gate(_ plan: AttemptPlan, commit: String, passed: Bool) -> Verification {
        Verification(
            kind: .gate,
            attempt: plan.key,
            commit: commit,
            command: "./verify.sh",
            groups: [plan.key.group],
            exitCode: passed ? 0 : 1,
            passed: passed,
            timedOut: false,
            duration: .milliseconds(1),
            outputTail: passed ? "ok" : "FAIL: \(plan.key.group)",
            report: nil
        )
    }
}
